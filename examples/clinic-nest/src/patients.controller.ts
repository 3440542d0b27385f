import type { AuditLogger } from '@boundary-audit/core'
import type { ClinicClaims } from '@boundary-audit/example-clinic-express/identity'
import { Audit, InjectAuditLogger } from '@boundary-audit/nestjs'
import {
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Patch,
  Query,
  Req,
} from '@nestjs/common'
import type pg from 'pg'
import { PG_POOL } from './tokens.js'

interface ClinicRequest {
  user: ClinicClaims
  params: Record<string, string>
  headers: Record<string, string | string[] | undefined>
  /** The patient a lookup by MRN found, for the access event. */
  patientId?: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const EDITABLE = new Set(['phone', 'email', 'address'])

// HIPAA purpose of use (treatment, payment, operations ...), sent by the client per request.
const purposeOf = (req: ClinicRequest) => {
  const value = req.headers['x-purpose-of-use']
  return typeof value === 'string' && /^[a-z-]{1,32}$/.test(value) ? value : 'treatment'
}
const patientById = (req: ClinicRequest) => ({ type: 'patient', id: req.params.id })

function requireClinician(req: ClinicRequest, what: string) {
  if (!req.user.groups?.includes('clinicians')) throw new ForbiddenException(`only clinicians may ${what}`)
}

@Controller('patients')
export class PatientsController {
  constructor(
    @InjectAuditLogger() private readonly audit: AuditLogger,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {}

  /** A search has no single resource: one event for the search, one per patient shown. */
  @Get()
  async search(@Query('family_name') family: unknown, @Query('dob') dob: unknown, @Req() req: ClinicRequest) {
    if (typeof family !== 'string' || family === '') throw new BadRequestException('family_name is required')
    const { rows } = await this.pool.query(
      `select id, given_name, family_name, dob::text as dob from patients
        where family_name ilike $1 and ($2::date is null or dob = $2::date)
        order by family_name, given_name limit 50`,
      [family, typeof dob === 'string' ? dob : null],
    )
    const purpose = purposeOf(req)
    this.audit.access({
      action: 'patient-record-search',
      resource: { type: 'patient' },
      purpose,
      details: { returned: rows.length },
    })
    for (const row of rows) {
      this.audit.access({ action: 'patient-record-list', resource: { type: 'patient', id: row.id }, purpose })
    }
    return rows.map((r) => ({ id: r.id, givenName: r.given_name, familyName: r.family_name, dob: r.dob }))
  }

  @Get('mrn/:mrn')
  @Audit('patient-record-read', {
    resource: (req: ClinicRequest) => ({ type: 'patient', id: req.patientId ?? req.params.mrn }),
    purpose: purposeOf,
  })
  async byMrn(@Param('mrn') mrn: string, @Req() req: ClinicRequest) {
    requireClinician(req, 'read a full record')
    const { rows } = await this.pool.query('select * from patients where mrn = $1', [mrn])
    if (!rows[0]) throw new NotFoundException('no such patient')
    req.patientId = rows[0].id
    return toRecord(rows[0])
  }

  @Get(':id')
  @Audit('patient-record-read', { resource: patientById, purpose: purposeOf })
  async read(@Param('id') id: string, @Req() req: ClinicRequest) {
    if (!UUID.test(id)) throw new BadRequestException('id must be a UUID')
    requireClinician(req, 'read a full record')
    const { rows } = await this.pool.query('select * from patients where id = $1', [id])
    if (!rows[0]) throw new NotFoundException('no such patient')
    return toRecord(rows[0])
  }

  @Patch(':id')
  @HttpCode(204)
  @Audit('patient-record-update', { resource: patientById, purpose: purposeOf })
  async update(
    @Param('id') id: string,
    @Body() body: Record<string, unknown> | undefined,
    @Req() req: ClinicRequest,
  ) {
    if (!UUID.test(id)) throw new BadRequestException('id must be a UUID')
    requireClinician(req, 'change a record')
    const changes = Object.entries(body ?? {}).filter(([k, v]) => EDITABLE.has(k) && typeof v === 'string')
    if (changes.length === 0) throw new BadRequestException('nothing to change (phone, email, address)')
    const sets = changes.map(([k], i) => `${k} = $${i + 2}`).join(', ')
    const { rows } = await this.pool.query(
      `update patients set ${sets}, updated_at = now() where id = $1 returning id`,
      [id, ...changes.map(([, v]) => v)],
    )
    if (rows.length === 0) throw new NotFoundException('no such patient')
  }
}

function toRecord(row: Record<string, unknown>) {
  return {
    id: row.id,
    mrn: row.mrn,
    givenName: row.given_name,
    familyName: row.family_name,
    dob: row.dob,
    ssn: row.ssn,
    email: row.email,
    phone: row.phone,
    address: row.address,
    updatedAt: row.updated_at,
  }
}
