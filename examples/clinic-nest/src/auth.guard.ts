import type { IdentityProvider } from '@boundary-audit/example-clinic-express/identity'
import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common'
import { Reflector } from '@nestjs/core'
import { IDENTITY } from './tokens.js'

const PUBLIC = 'clinic:public'
/** Routes that need no token (login, the issuer's metadata). */
export const Public = () => SetMetadata(PUBLIC, true)

/**
 * Verifies the bearer token (an ID token of the local Dex-like issuer) and sets `req.user` to its
 * claims. BoundaryAuditModule reads `req.user` (sub -> user.id, groups -> user.roles,
 * iss -> user.domain), so every event of the request names the actor.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(IDENTITY) private readonly idp: IdentityProvider,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()]))
      return true
    const req = context.switchToHttp().getRequest()
    const match = /^Bearer ([A-Za-z0-9._-]+)$/.exec(req.headers.authorization ?? '')
    if (!match) throw new UnauthorizedException('missing bearer token')
    try {
      req.user = await this.idp.verify(match[1]!)
      return true
    } catch {
      throw new UnauthorizedException('invalid or expired token')
    }
  }
}
