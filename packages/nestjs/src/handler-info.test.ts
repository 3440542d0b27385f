import 'reflect-metadata'
import { describe, expect, it } from 'vitest'
import { Audit } from './audit-decorator'
import { handlerInfo } from './handler-info'

@Audit('chart-read', { resource: { type: 'chart' } })
class Charts {
  list() {}
  @Audit('chart-export', { resource: { type: 'chart' } })
  exportAll() {}
}

class MoreCharts extends Charts {}

class Plain {
  ping() {}
}

describe('handlerInfo', () => {
  it("gives the handler's own @Audit over its controller's, and none without either", () => {
    expect(handlerInfo(Charts.prototype.list, Charts).spec?.action).toBe('chart-read')
    expect(handlerInfo(Charts.prototype.exportAll, Charts).spec?.action).toBe('chart-export')
    expect(handlerInfo(Plain.prototype.ping, Plain).spec).toBeUndefined()
  })

  it('names controller and handler, once per pair: the same frozen object for every request', () => {
    const a = handlerInfo(Plain.prototype.ping, Plain)
    expect(a.names).toEqual({ controller: 'Plain', name: 'ping' })
    expect(Object.isFrozen(a.names)).toBe(true)
    expect(handlerInfo(Plain.prototype.ping, Plain)).toBe(a)
  })

  it('an inherited method is named after the controller that serves it', () => {
    const inherited = handlerInfo(Charts.prototype.list, MoreCharts)
    expect(inherited.names).toEqual({ controller: 'MoreCharts', name: 'list' })
    expect(inherited.spec?.action).toBe('chart-read')
    expect(handlerInfo(Charts.prototype.list, Charts).names.controller).toBe('Charts')
  })
})
