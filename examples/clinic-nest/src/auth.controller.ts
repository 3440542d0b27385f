import type { AuditLogger } from '@boundary-audit/core'
import type { ClinicClaims, IdentityProvider } from '@boundary-audit/example-clinic-express/identity'
import { InjectAuditLogger } from '@boundary-audit/nestjs'
import { Body, Controller, Get, HttpCode, Inject, Post, Req, UnauthorizedException } from '@nestjs/common'
import { Public } from './auth.guard.js'
import { IDENTITY } from './tokens.js'

@Controller()
export class AuthController {
  constructor(
    @InjectAuditLogger() private readonly audit: AuditLogger,
    @Inject(IDENTITY) private readonly idp: IdentityProvider,
  ) {}

  @Public()
  @Get('dex/.well-known/openid-configuration')
  discovery() {
    return this.idp.discovery()
  }

  @Public()
  @Get('dex/keys')
  keys() {
    return this.idp.jwks()
  }

  @Public()
  @Post('auth/login')
  @HttpCode(200)
  async login(
    @Body() body: { username?: unknown; password?: unknown } | undefined,
    @Req() req: { user?: unknown },
  ) {
    const account = this.idp.authenticate(body?.username, body?.password)
    if (!account) {
      // The typed-in username is only ever written as a keyed pseudonym (brute-force analysis).
      this.audit.login({
        outcome: 'failure',
        reason: 'invalid-credentials',
        method: 'password',
        attemptedIdentifier: typeof body?.username === 'string' ? body.username : undefined,
      })
      throw new UnauthorizedException('invalid username or password')
    }
    const { token, sid, expiresIn } = await this.idp.issue(account)
    const claims = await this.idp.verify(token)
    req.user = claims // so this request's own http-request event names the new actor too
    this.audit.login({
      actor: {
        id: claims.sub,
        roles: claims.groups,
        domain: claims.iss,
        name: claims.preferred_username,
        type: 'user',
      },
      outcome: 'success',
      method: 'password',
      session: sid,
    })
    return { access_token: token, token_type: 'Bearer', expires_in: expiresIn }
  }

  @Post('auth/logout')
  @HttpCode(204)
  logout(@Req() req: { user: ClinicClaims }) {
    this.idp.revoke(req.user.sid)
    this.audit.logout({ reason: 'user-initiated', session: req.user.sid })
  }
}
