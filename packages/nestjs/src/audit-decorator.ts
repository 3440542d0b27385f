import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common'
import { type AccessSpec, AUDIT_ACCESS_METADATA } from './handler-info'
import { AuditAccessInterceptor } from './interceptor'
import type { AuditOptions, AuditRequest } from './types'

export { type AccessSpec, AUDIT_ACCESS_METADATA }

const ACTION_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/

/**
 * Marks a route handler as a record access: besides the request's `http-request` event, each call
 * writes one access event (`audit.access()`) named `action`, with outcome `success` when the handler
 * returns, `failure` (with the error) when it, a pipe or a guard rejects the request. The resource
 * id is pseudonymised by core; the raw id is never written.
 *
 * ```ts
 * @Get(':id')
 * @Audit('patient-record-read', { resource: (req) => ({ type: 'patient', id: req.params.id }) })
 * findOne(@Param('id') id: string) { ... }
 * ```
 */
export function Audit<Req = AuditRequest>(
  action: string,
  options: AuditOptions<Req>,
): MethodDecorator & ClassDecorator {
  if (typeof action !== 'string' || !ACTION_NAME.test(action)) {
    throw new TypeError(
      `boundary-audit: @Audit(action, options) needs an action name of letters, digits and . _ : - such as 'patient-record-read'; got ${typeof action === 'string' ? `'${action}'` : typeof action}`,
    )
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `boundary-audit: @Audit('${action}', options) needs options { resource: { type, id } or (req) => ({ type, id }) }; got ${options === null ? 'null' : typeof options}`,
    )
  }
  const resource = options.resource as unknown
  if (
    typeof resource !== 'function' &&
    (resource === null ||
      typeof resource !== 'object' ||
      typeof (resource as { type?: unknown }).type !== 'string')
  ) {
    throw new TypeError(
      `boundary-audit: @Audit('${action}') option resource must be { type, id? } or a function (req) => ({ type, id }); got ${resource === null ? 'null' : typeof resource}`,
    )
  }
  if (
    options.purpose !== undefined &&
    typeof options.purpose !== 'string' &&
    typeof options.purpose !== 'function'
  ) {
    throw new TypeError(
      `boundary-audit: @Audit('${action}') option purpose must be a string or a function (req) => string; got ${typeof options.purpose}`,
    )
  }
  const spec: AccessSpec = Object.freeze({ ...(options as AuditOptions<any>), action })
  // The interceptor is the handler's own (an instance: no injection needed), not a global one.
  return applyDecorators(
    SetMetadata(AUDIT_ACCESS_METADATA, spec),
    UseInterceptors(new AuditAccessInterceptor(spec)),
  ) as MethodDecorator & ClassDecorator
}
