/**
 * `boundary-audit report`: which individuals did an actor / session / client IP reach between two
 * times, and who reached a given individual, from an export alone, in the same pass as verification
 * (only authentic records are counted, each once), with whether the evidence is complete.
 */
import type { MonitorOptions } from '../../monitor/types'
import type { VerifyOptions, VerifyReport } from '../findings'
import { createThreadedVerifier } from '../parallel/threaded'
import { createVerifier, type VerifyHooks } from '../verifier'
import { incompleteBecause } from './completeness'
import { factsOf, factsWithAccessOf } from './facts'
import { type ReportFilters, recordMatcher, valueMatcher, whoFilterOf } from './match'
import { RulesCollector, type RulesReplay } from './rules'
import { type ActorRow, type IndividualRow, Tally, type UnstatedRequest } from './tally'

export interface EvidenceOptions extends ReportFilters {
  /** Verifier private key(s), as for verify. */
  privateKey?: VerifyOptions['privateKey']
  /** Pseudonym keys (secrets as bytes): clear ids given in the filters are pseudonymised with each. */
  pseudonymKeys?: readonly Buffer[]
  /** End of the period the input covers (truncation is judged against it). */
  until?: VerifyOptions['until']
  tempDir?: string
  /**
   * The privacy monitor's rules (createAuditLogger's `monitor` option) to replay over the authentic
   * records of the window (`monitor` in the report); `rulesPseudonymKey` for `watched.ids`.
   */
  rules?: MonitorOptions
  rulesPseudonymKey?: Buffer
  /** As for verify (VerifyOptions): worker threads, when to start them, their script. */
  threads?: number
  threadsAfterBytes?: number
  workerFile?: string
}

export interface EvidenceReport {
  /** Every stream with records in the window verified intact through the window. */
  complete: boolean
  /** 0 complete, 1 incomplete or tampered (counts are a lower bound), 2 nothing verifiable in the input. */
  exitCode: 0 | 1 | 2
  /** Records (authentic, in the window, by the actors asked for) that name an individual. */
  records: number
  /** Distinct individuals those records name. */
  individuals: number
  byIndividual: IndividualRow[]
  byActor: ActorRow[]
  /** Why the report is not complete (empty when it is). */
  findings: VerifyReport['findings']
  /** Requests that carried pseudonymised route parameters but no access event in the same request. */
  requestsWithoutAccessEvent: UnstatedRequest[]
  window: { from?: string; to?: string }
  resourceType: string
  streams: Array<
    Pick<
      VerifyReport['streams'][number],
      'stream' | 'service' | 'instance' | 'status' | 'records' | 'start' | 'end'
    >
  >
  input: VerifyReport['input']
  /** `--rules`: the monitor's rules replayed over the authentic records of the window. */
  monitor?: RulesReplay
  summary: string
}

export interface EvidenceCollector {
  write(chunk: Buffer | string): void
  push(line: string): void
  end(): EvidenceReport
}

/** The same on worker threads (parallel/threaded.ts): what the CLI and evidenceReport use. */
export interface ThreadedEvidenceCollector {
  write(chunk: Buffer | string): Promise<void>
  end(): Promise<EvidenceReport>
  abort(): Promise<void>
}

/** The verifier's options and hooks for a report: the tally counts each authentic record once. */
function evidenceParts(options: EvidenceOptions) {
  const keys = options.pseudonymKeys ?? []
  const match = recordMatcher(options, keys)
  const patient = valueMatcher(options.patients, keys, ['resource'])
  const tally = new Tally(match, (ps) => !patient || ps.some((p) => patient(p) !== undefined))
  const rules = options.rules
    ? new RulesCollector(options.rules, match.inWindow, options.rulesPseudonymKey)
    : undefined
  const verify: VerifyOptions = {
    privateKey: options.privateKey,
    until: options.until,
    tempDir: options.tempDir,
    ignoreOrder: false,
    threads: options.threads,
    threadsAfterBytes: options.threadsAfterBytes,
    workerFile: options.workerFile,
  }
  const hooks: VerifyHooks = rules
    ? {
        pick: factsWithAccessOf,
        onAuthentic: (e) => {
          tally.add(e)
          rules.add(e)
        },
      }
    : { pick: factsOf, pickFilter: whoFilterOf(options, keys), onAuthentic: (e) => tally.add(e) }
  return { tally, rules, verify, hooks }
}

export function createEvidenceReport(options: EvidenceOptions = {}): EvidenceCollector {
  const { tally, rules, verify, hooks } = evidenceParts(options)
  const verifier = createVerifier(verify, hooks)
  return {
    write: (chunk) => verifier.write(chunk),
    push: (line) => verifier.push(line),
    end: () => finishEvidence(verifier.end(), tally, rules, options),
  }
}

export function createThreadedEvidenceReport(options: EvidenceOptions = {}): ThreadedEvidenceCollector {
  const { tally, rules, verify, hooks } = evidenceParts(options)
  const verifier = createThreadedVerifier(verify, hooks)
  return {
    write: (chunk) => verifier.write(chunk),
    end: async () => finishEvidence(await verifier.end(), tally, rules, options),
    abort: () => verifier.abort(),
  }
}

/** The report over what a readable stream (a file, standard input, an HTTP response body) delivers. */
export async function evidenceReport(
  source: AsyncIterable<Buffer | string>,
  options: EvidenceOptions = {},
): Promise<EvidenceReport> {
  const c = createThreadedEvidenceReport(options)
  try {
    for await (const chunk of source) await c.write(chunk)
  } catch (err) {
    await c.abort()
    throw err
  }
  return c.end()
}

function finishEvidence(
  verify: VerifyReport,
  tally: Tally,
  rules: RulesCollector | undefined,
  o: EvidenceOptions,
): EvidenceReport {
  const findings = incompleteBecause(verify, o, tally.lastSeqInWindow)
  const complete = findings.length === 0 && verify.streams.length > 0
  const exitCode: 0 | 1 | 2 = verify.streams.length === 0 ? 2 : complete ? 0 : 1
  const report: EvidenceReport = {
    complete,
    exitCode,
    records: tally.records,
    individuals: tally.individualCount,
    byIndividual: tally.byIndividual(),
    byActor: tally.byActor(),
    findings,
    requestsWithoutAccessEvent: tally.unstated(),
    window: {
      from: o.from !== undefined ? new Date(o.from).toISOString() : undefined,
      to: o.to !== undefined ? new Date(o.to).toISOString() : undefined,
    },
    resourceType: o.resourceType ?? 'patient',
    streams: verify.streams.map(({ stream, service, instance, status, records, start, end }) => ({
      stream,
      service,
      instance,
      status,
      records,
      start,
      end,
    })),
    input: verify.input,
    summary: '',
  }
  if (rules) report.monitor = rules.finish()
  report.summary = summary(report)
  return report
}

function summary(r: EvidenceReport): string {
  if (r.exitCode === 2) return 'no audit records found in the input'
  const counts = `${r.individuals} individual(s) reached in ${r.records} record(s)`
  if (r.complete) return `COMPLETE: ${counts}; every stream with records in the window verified intact`
  return `INCOMPLETE: at least ${counts}; ${r.findings.length} finding(s) make the counts a lower bound`
}
