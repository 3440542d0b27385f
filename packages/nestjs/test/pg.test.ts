import { wrapPool } from '@boundary-audit/pg'
import { Controller, Get, Inject, Injectable, Module, type OnModuleDestroy, Param } from '@nestjs/common'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIT_LOGGER, Audit, type AuditLogger, BoundaryAuditModule } from '../src/index'
import { byAction, captureOptions, pseudonymOf, startApp, type TestApp, untilHttpEvents } from './app'

// Real PostgreSQL on 127.0.0.1 (trust auth), queried through @boundary-audit/pg from a Nest service:
// the db-query events get the actor and request id from the context the module opened.
const PG_POOL = Symbol('PG_POOL')
const SSN = '219-09-9999'

@Injectable()
class RecordsRepository implements OnModuleDestroy {
  constructor(@Inject(PG_POOL) private readonly pool: pg.Pool) {}
  async find(id: string) {
    // The id is a bind parameter: its value must never reach the log, only `$1`.
    const { rows } = await this.pool.query('SELECT $1::text AS id, pg_sleep(random() * 0.01) AS waited', [id])
    return { id: rows[0].id }
  }
  onModuleDestroy() {
    return this.pool.end()
  }
}

@Controller('records')
class RecordsController {
  constructor(@Inject(RecordsRepository) private readonly repo: RecordsRepository) {}
  @Get(':id')
  @Audit('patient-record-read', { resource: (req) => ({ type: 'patient', id: req.params.id }) })
  findOne(@Param('id') id: string) {
    return this.repo.find(id)
  }
}

@Module({
  controllers: [RecordsController],
  providers: [
    {
      provide: PG_POOL,
      inject: [AUDIT_LOGGER],
      useFactory: (audit: AuditLogger) =>
        wrapPool(new pg.Pool({ host: '127.0.0.1', user: 'postgres', database: 'test', max: 8 }), audit),
    },
    RecordsRepository,
  ],
})
class RecordsModule {}

describe('pg queries from Nest services (real PostgreSQL)', () => {
  const lines: string[] = []
  let t: TestApp
  beforeAll(async () => {
    t = await startApp(BoundaryAuditModule.forRoot(captureOptions(lines)), lines, [RecordsModule])
  })
  afterAll(async () => {
    await t?.close()
  })

  it('carries each request’s actor and request id on its db-query events (60 concurrent)', async () => {
    const N = 60
    const ids = Array.from({ length: N }, (_, i) => (i === 0 ? SSN : `R-${i}`))
    const statuses = await Promise.all(
      ids.map(async (id, i) => {
        const res = await fetch(`${t.url}/records/${encodeURIComponent(id)}`, {
          headers: { authorization: `Bearer nurse-${i}:clinician`, 'x-request-id': `pg-${i}` },
        })
        await res.arrayBuffer()
        return res.status
      }),
    )
    expect(statuses.every((s) => s === 200)).toBe(true)
    await untilHttpEvents(lines, N, (id) => id.startsWith('pg-'))
    const events = t.events()
    for (let i = 0; i < N; i++) {
      const mine = events.filter((e) => e.http?.request?.id === `pg-${i}`)
      const db = byAction(mine, 'db-query')
      expect(db, `request ${i}`).toHaveLength(1)
      expect(db[0]!.user.id).toBe(`nurse-${i}`)
      expect(db[0]!.db.query.text).toMatch(/^SELECT \$1::text AS id/)
      expect(byAction(mine, 'patient-record-read')[0]!.audit.resource.id).toBe(pseudonymOf(ids[i]!))
    }
    expect(lines.join('')).not.toContain(SSN)
  })
})
