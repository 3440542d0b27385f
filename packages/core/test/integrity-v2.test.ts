/**
 * Chain format 2 (epochs: per-record links, one MAC per sealed batch): every tampering class is found
 * and named, as in format 1; format 1 exports still verify; a random change to a v2 export is always
 * found; the logger's own output (sealing thread, batches of many records) verifies.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { createAuditLogger } from '../src/index'
import { fieldsValueV2, namesOfFieldsV2, ROOTS_V2 } from '../src/integrity/canonical'
import {
  type Chain,
  createChain,
  generateVerifierKeyPair,
  hmacSha256,
  loadVerifierPrivateKey,
  macInputOf,
  nextKey,
  unsealKey,
} from '../src/integrity/index'
import { type Finding, type VerifyReport, verifyText } from '../src/integrity/verify'
import { lossRecord, withLossTotal } from '../src/writer/loss'

const pair = generateVerifierKeyPair()
const dir = mkdtempSync(join(tmpdir(), 'ba-v2-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

type Obj = Record<string, any>
const T0 = Date.parse('2026-12-01T10:00:00.000Z')

function event(i: number): Obj {
  return {
    '@timestamp': new Date(T0 + i * 100).toISOString(),
    'log.level': 'info',
    'ecs.version': '8.17.0',
    message: `record read ${i}`,
    service: { name: 'svc', node: { name: 'pod-1' } },
    event: {
      action: 'patient-read',
      category: ['database'],
      kind: 'event',
      outcome: 'success',
      type: ['access'],
    },
    user: { id: `u${i % 3}` },
    audit: { resource: { type: 'Patient', id: `ps_abc123_${String(i).padStart(24, '0')}` } },
  }
}

/** Epoch sizes after the genesis (its own epoch); the closing record ends the last. */
const EPOCHS = [5, 1, 7, 3, 4]

interface Built {
  lines: string[]
  chain: Chain
}

function build(keyed = true, epochs = EPOCHS, closed = true, stateFile?: string): Built {
  let t = T0
  const chain = createChain({
    service: { name: 'svc', instance: 'pod-1' },
    checkpointIntervalSeconds: 60,
    verifierKey: keyed ? pair.publicKeyPem : undefined,
    now: () => (t += 100),
    stateFile,
  })
  const lines = [chain.seal(chain.genesis())]
  let i = 1
  epochs.forEach((n, k) => {
    const batch = Array.from({ length: n }, () => event(i++))
    // Every other epoch ends with a checkpoint, as the sealer's chain records do.
    if (k % 2 === 1) batch.push(chain.checkpoint())
    lines.push(...chain.sealBatch(batch))
  })
  if (closed) lines.push(chain.seal(chain.closing()))
  return { lines, chain }
}

const verify = (lines: string[], options: Obj = {}): VerifyReport =>
  verifyText(`${lines.join('\n')}\n`, { privateKey: pair.privateKeyPem, ...options })
const kinds = (r: VerifyReport) => r.findings.map((f) => f.kind).sort()
const of = (r: VerifyReport, kind: Finding['kind']) => r.findings.filter((f) => f.kind === kind)
const integrityOf = (line: string): Obj => JSON.parse(line).audit.integrity
/** Changes record `at` and recomputes the links of the records after it up to `end` (as an intruder without the key can). */
function relink(lines: string[], at: number, end: number, change: (r: Obj) => void): string[] {
  const copy = lines.slice()
  const rec = JSON.parse(copy[at]!)
  change(rec)
  copy[at] = JSON.stringify(rec)
  for (let s = at + 1; s <= end; s++) {
    const before = JSON.parse(copy[s - 1]!)
    const bi = before.audit.integrity
    const link = createHash('sha256')
      .update(macInputOf(before, namesOfFieldsV2(bi.fields)!, 2))
      .digest('base64url')
      .slice(0, 22)
    const r = JSON.parse(copy[s]!)
    r.audit.integrity.prev = link
    copy[s] = JSON.stringify(r)
  }
  return copy
}

/** Seq of the first record of the epoch that holds `seq`. */
const epochStart = (lines: string[], seq: number): number => {
  for (let s = seq - 1; s >= 0; s--) if (integrityOf(lines[s]!).mac !== undefined) return s + 1
  return 0
}

describe('chain format 2: what the writer writes', () => {
  it('links every record to the one before, and only the last record of an epoch carries a MAC', () => {
    const { lines } = build()
    const all = lines.map(integrityOf)
    expect(all.every((i) => i.v === 2 && typeof i.fields === 'string')).toBe(true)
    expect(all.filter((i) => i.mac !== undefined)).toHaveLength(1 + EPOCHS.length + 1)
    // Epochs tile the seqs, numbered in order.
    const ends = all.filter((i) => i.mac !== undefined)
    ends.forEach((e, k) => {
      expect(e.epoch).toBe(k)
      expect(e.from).toBe(k === 0 ? 0 : ends[k - 1]!.seq + 1)
    })
    for (let s = 1; s < all.length; s++) expect(all[s]!.prev).toMatch(/^[A-Za-z0-9_-]{22}$/)
    // No field list: the mask of the registry, a few characters.
    expect(JSON.stringify(all[2]).length).toBeLessThan(110)
  })

  it('verifies intact, every seq authenticated, keyed and unkeyed', () => {
    const { lines } = build()
    const r = verify(lines)
    expect(r.exitCode).toBe(0)
    expect(r.findings).toEqual([])
    expect(r.streams[0]!.intact).toEqual([[0, lines.length - 1]])
    const u = verify(build(false).lines, { privateKey: undefined })
    expect(u.streams[0]!.status).toBe('unauthenticated')
    expect(u.streams[0]!.intact).toEqual([[0, lines.length - 1]])
  })
})

describe('chain format 2: the fields a record commits to', () => {
  it('a mask over the registry, roots outside it listed after the mask; anything else is no field list', () => {
    expect(fieldsValueV2(['@timestamp', 'audit'])).toBe('"3"')
    const names = ['@timestamp', 'audit', 'event', 'rule', 'custom', 'odd "name"']
    const value = JSON.parse(fieldsValueV2(names))
    expect(Array.isArray(value) && value.slice(1)).toEqual(['custom', 'odd "name"'])
    expect(namesOfFieldsV2(value)).toEqual(names)
    for (const bad of ['', 'zz', 'FF', '1'.repeat(9), (2 ** ROOTS_V2.length).toString(16), [], [1], 3, null])
      expect(namesOfFieldsV2(bad)).toBeUndefined()
  })

  it('the same names for a mask whatever came before it (the last mask is remembered), and none to change', () => {
    const lists = [
      ['@timestamp', 'audit'],
      ['audit', 'event', 'user'],
      ['@timestamp', 'audit'],
    ]
    const masks = lists.map((l) => JSON.parse(fieldsValueV2(l)) as string)
    for (const order of [
      [0, 1, 2, 1, 0],
      [1, 1, 0, 0, 2],
    ])
      for (const i of order) {
        expect(namesOfFieldsV2(masks[i])).toEqual(lists[i])
        // Frozen: a caller that changed the list would change every later record's.
        expect(() => (namesOfFieldsV2(masks[i]) as string[]).push('x')).toThrow()
      }
    // The records' MAC input follows the list, remembered or not.
    const rec = { '@timestamp': 't', audit: { integrity: {} }, event: { a: 1 }, user: { id: 'u' } }
    const one = macInputOf(rec, namesOfFieldsV2(masks[1])!, 2)
    expect(macInputOf(rec, namesOfFieldsV2(masks[0])!, 2)).toBe('{"@timestamp":"t","audit":{"integrity":{}}}')
    expect(macInputOf(rec, namesOfFieldsV2(masks[1])!, 2)).toBe(one)
    expect(one).toBe('{"audit":{"integrity":{}},"event":{"a":1},"user":{"id":"u"}}')
    expect(macInputOf(rec, ['user', 'audit', 'user'], 2)).toBe(
      '{"audit":{"integrity":{}},"user":{"id":"u"},"user":{"id":"u"}}',
    )
  })

  it('roots of its own are covered; roots a shipper adds later are ignored', () => {
    const chain = createChain({ service: { name: 'svc', instance: 'x' }, checkpointIntervalSeconds: 0 })
    const lines = [
      chain.seal(chain.genesis()),
      ...chain.sealBatch([{ ...event(1), custom: { a: 1 } }, event(2)]),
    ]
    const shipped = lines.map((l) =>
      JSON.stringify({ ...JSON.parse(l), kubernetes: { pod: 'p' }, stream: 'stdout' }),
    )
    expect(verifyText(shipped.join('\n')).streams[0]!.intact).toEqual([[0, 2]])
    const changed = shipped.slice()
    changed[1] = changed[1]!.replace('"a":1', '"a":2')
    expect(of(verifyText(changed.join('\n')), 'modified').map((f) => f.seq)).toEqual([1])
  })
})

describe('chain format 2: each kind of tampering is named', () => {
  const { lines } = build()
  // seq 1..5 are the first epoch of events; seq 9..15 the seven-record one.
  const inner = 12

  it('modified: the exact seq, and the records of its epoch before it as not authenticated', () => {
    const copy = lines.slice()
    const r0 = JSON.parse(copy[inner]!)
    r0.audit.resource.type = 'Practitioner'
    copy[inner] = JSON.stringify(r0)
    const r = verify(copy)
    expect(r.exitCode).toBe(1)
    expect(of(r, 'modified').map((f) => f.seq)).toEqual([inner])
    const from = epochStart(lines, inner)
    expect(of(r, 'unproven')).toMatchObject([{ from, to: inner - 1 }])
    expect(kinds(r)).toEqual(['modified', 'unproven'])
    // Everything outside the epoch's head is still authenticated.
    expect(r.streams[0]!.intact).toEqual([
      [0, from - 1],
      [inner + 1, lines.length - 1],
    ])
  })

  it('modified at the first record of an epoch: only that seq', () => {
    const first = epochStart(lines, inner)
    const copy = lines.slice()
    copy[first] = copy[first]!.replace('record read', 'record READ')
    const r = verify(copy)
    expect(kinds(r)).toEqual(['modified'])
    expect(of(r, 'modified')[0]!.seq).toBe(first)
  })

  it("modified epoch end (its MAC no longer matches): that seq, and its epoch's records unproven", () => {
    const end = epochStart(lines, inner) + 6
    expect(integrityOf(lines[end]!).mac).toBeDefined()
    const copy = lines.slice()
    copy[end] = copy[end]!.replace('record read', 'record READ')
    const r = verify(copy)
    expect(of(r, 'modified').map((f) => f.seq)).toEqual([end])
    expect(of(r, 'unproven')).toMatchObject([{ from: epochStart(lines, inner), to: end - 1 }])
  })

  it('a modified record whose links were rewritten up to its epoch end: the end is named, the epoch unproven', () => {
    const from = epochStart(lines, inner)
    const end = from + 6
    // The intruder changes seq inner and recomputes every link after it, but cannot make the MAC.
    const copy = relink(lines, inner, end, (r) => {
      r.audit.resource.type = 'Practitioner'
    })
    const r = verify(copy)
    expect(of(r, 'modified').map((f) => f.seq)).toEqual([end])
    expect(of(r, 'unproven')).toMatchObject([{ from, to: end - 1 }])
    expect(r.streams[0]!.intact).toEqual([
      [0, from - 1],
      [end + 1, lines.length - 1],
    ])
  })

  it('deleted: the missing seq named', () => {
    const copy = lines.filter((_, s) => s !== inner)
    const r = verify(copy)
    expect(of(r, 'deleted')).toMatchObject([{ from: inner, to: inner }])
    expect(of(r, 'modified')).toEqual([])
    expect(r.streams[0]!.status).toBe('gaps')
  })

  it('inserted / forged: a second record claiming a seq is named, the authentic one kept', () => {
    const copy = lines.slice()
    copy.splice(inner + 1, 0, copy[inner]!.replace('record read', 'forged read'))
    const r = verify(copy)
    expect(kinds(r)).toEqual(['inserted'])
    expect(of(r, 'inserted')[0]!).toMatchObject({ seq: inner, lines: [inner + 2] })
    expect(r.streams[0]!.intact).toEqual([[0, lines.length - 1]])
  })

  it('a whole epoch forged past the end with a made-up MAC is inserted', () => {
    const open = build(true, EPOCHS, false).lines
    const last = JSON.parse(open[open.length - 1]!)
    const i = last.audit.integrity
    const forged = { ...last, message: 'forged' }
    forged.audit = { ...last.audit, integrity: { ...i, seq: i.seq + 1, epoch: i.epoch + 1, from: i.seq + 1 } }
    const r = verify([...open, JSON.stringify(forged)])
    expect(of(r, 'inserted').map((f) => f.seq)).toEqual([i.seq + 1])
  })

  it('reordered: named, nothing else', () => {
    const copy = lines.slice()
    ;[copy[inner], copy[inner + 1]] = [copy[inner + 1]!, copy[inner]!]
    const r = verify(copy)
    expect(kinds(r)).toEqual(['reordered'])
    expect(r.streams[0]!.intact).toEqual([[0, lines.length - 1]])
  })

  it('truncated tail inside an epoch: the cut epoch is unproven and the tail is reported', () => {
    const cut = lines.slice(0, inner + 1)
    const r = verify(cut, { until: T0 + 3600_000 })
    expect(of(r, 'unproven')).toMatchObject([{ from: epochStart(lines, inner), to: inner }])
    expect(of(r, 'truncated-tail')).toHaveLength(1)
    expect(r.streams[0]!.closed).toBe(false)
  })

  it('truncated at an epoch boundary: intact so far, then truncated-tail, or never-closed once the instance restarted', () => {
    const end = epochStart(lines, inner) - 1
    const cut = lines.slice(0, end + 1)
    const r = verify(cut, { until: T0 + 3600_000 })
    expect(kinds(r)).toEqual(['truncated-tail'])
    expect(r.streams[0]!.intact).toEqual([[0, end]])
    // The same instance started again (its state file names the stream before): never closed.
    const stateFile = join(dir, 'state.json')
    const first = build(true, EPOCHS, false, stateFile).lines
    const second = build(true, [2], true, stateFile).lines
    const r2 = verify([...first, ...second])
    expect(kinds(r2)).toEqual(['never-closed'])
  })

  it('dropped: a sealed loss record is reported, the chain intact', () => {
    const chain = createChain({ service: { name: 'svc', instance: 'i' }, checkpointIntervalSeconds: 0 })
    const now = new Date().toISOString()
    const text = [
      chain.seal(chain.genesis()),
      ...chain.sealBatch([event(1), event(2)]),
      chain.seal(lossRecord(now, 3, 3, 'buffer-full', now)),
      ...chain.sealBatch([event(3), withLossTotal(chain.closing(), 3)]),
    ]
    const r = verifyText(`${text.join('\n')}\n`)
    expect(of(r, 'dropped')).toMatchObject([{ seq: 3, count: 3 }])
    expect(r.streams[0]!.intact).toEqual([[0, text.length - 1]])
  })

  it('an earlier batch rewritten and re-sealed with a later key (the process taken later) is not authentic', () => {
    const from = epochStart(lines, inner)
    const end = from + 6
    const genesis = integrityOf(lines[0]!)
    const k0 = unsealKey(genesis.key, loadVerifierPrivateKey(pair.privateKeyPem), genesis.stream)
    const keyOf = (e: number) => {
      let k = k0
      for (let i = 0; i < e; i++) k = nextKey(k)
      return k
    }
    const epoch = integrityOf(lines[end]!).epoch as number
    for (const claim of [epoch, epoch + 1]) {
      // Held: k[epoch + 1] and later. Claimed: the batch's own number, or the key's.
      const copy = relink(lines, inner, end, (r) => {
        r.audit.resource.type = 'Practitioner'
      })
      const rec = JSON.parse(copy[end]!)
      const i = rec.audit.integrity
      i.epoch = claim
      const digest = createHash('sha256')
        .update(macInputOf(rec, namesOfFieldsV2(i.fields)!, 2))
        .digest('base64url')
      i.mac = hmacSha256(keyOf(epoch + 1), `2.${claim}.${i.from}.${digest}`)
      copy[end] = JSON.stringify(rec)
      const r = verify(copy)
      // Its own place claimed: the later key is found and named; another place: it does not fit.
      if (claim === epoch) expect(of(r, 'remacked')).toMatchObject([{ seq: end, keySeq: epoch + 1 }])
      else expect(of(r, 'modified').map((f) => f.seq)).toEqual([end])
      expect(r.streams[0]!.intact.some(([a, b]) => a <= inner && inner <= b)).toBe(false)
    }
    // With the batch's own key the same rewrite passes: the check above is the key, not the format.
    const copy = relink(lines, inner, end, (r) => {
      r.audit.resource.type = 'Practitioner'
    })
    const rec = JSON.parse(copy[end]!)
    const i = rec.audit.integrity
    const digest = createHash('sha256')
      .update(macInputOf(rec, namesOfFieldsV2(i.fields)!, 2))
      .digest('base64url')
    i.mac = hmacSha256(keyOf(epoch), `2.${epoch}.${i.from}.${digest}`)
    copy[end] = JSON.stringify(rec)
    expect(verify(copy).exitCode).toBe(0)
  })
})

describe('chain format 2: records that come far too late (after 1,024 later ones)', () => {
  // 40 epochs of 50 records: enough for the walk to pass a missing seq before it comes.
  const { lines } = build(
    true,
    Array.from({ length: 40 }, () => 50),
  )
  const ends = lines.map((l, s) => (integrityOf(l).mac !== undefined ? s : -1)).filter((s) => s > 100)

  it.each([
    ['a block holding an epoch end', ends[2]! - 2],
    ['a block inside an epoch', ends[2]! + 10],
  ])('%s: fills its place and is named as reordered, nothing else', (_, at) => {
    const copy = lines.slice()
    const moved = copy.splice(at, 5)
    copy.push(...moved)
    const r = verify(copy)
    expect(kinds(r)).toEqual(['reordered'])
    expect(r.findings[0]!.message).toMatch(new RegExp(`^5 record.*seq ${at}, ${at + 1}`))
    expect(r.streams[0]!.intact).toEqual([[0, lines.length - 1]])
  })

  it('an epoch end alone, far too late: its epoch is decided with it', () => {
    const at = ends[3]!
    const copy = lines.slice()
    copy.push(...copy.splice(at, 1))
    const r = verify(copy)
    expect(kinds(r)).toEqual(['reordered'])
    expect(r.streams[0]!.intact).toEqual([[0, lines.length - 1]])
  })

  it('the late copy of a modified epoch end does not pass', () => {
    const at = ends.find((s) => lines[s]!.includes('record read'))!
    const copy = lines.slice()
    const [moved] = copy.splice(at, 1)
    copy.push(moved!.replace('record read', 'record READ'))
    const r = verify(copy)
    expect(of(r, 'modified').map((f) => f.seq)).toEqual([at])
    expect(r.streams[0]!.intact.some(([a, b]) => a <= at && at <= b)).toBe(false)
  })
})

describe('chain format 1 exports still verify', () => {
  const fixtures = join(__dirname, 'fixtures', 'chain-v1')
  const key = readFileSync(join(fixtures, 'verifier-private.pem'), 'utf8')

  it('keyed: intact, closed, every seq; a change is named', () => {
    const text = readFileSync(join(fixtures, 'keyed.ndjson'), 'utf8')
    expect(text).toContain('"v":1')
    const r = verifyText(text, { privateKey: key })
    expect(r.exitCode).toBe(0)
    expect(r.streams[0]!.status).toBe('intact')
    expect(r.streams[0]!.intact).toEqual([[0, 14]])
    const lines = text.trimEnd().split('\n')
    lines[5] = lines[5]!.replace('patient record read', 'patient record READ')
    const bad = verifyText(lines.join('\n'), { privateKey: key })
    expect(kinds(bad)).toEqual(['modified'])
    expect(of(bad, 'modified')[0]!.seq).toBe(5)
  })

  it('unkeyed: unauthenticated, intact', () => {
    const r = verifyText(readFileSync(join(fixtures, 'unkeyed.ndjson'), 'utf8'))
    expect(r.streams[0]!.status).toBe('unauthenticated')
    expect(r.streams[0]!.intact).toEqual([[0, 14]])
  })

  it('format 1 written today (version: 1) verifies alongside format 2', () => {
    const chain = createChain({
      service: { name: 'svc', instance: 'v1' },
      checkpointIntervalSeconds: 0,
      version: 1,
    })
    const v1 = [chain.seal(chain.genesis()), chain.seal(event(1)), chain.seal(chain.closing())]
    expect(integrityOf(v1[1]!).fields).toEqual(expect.arrayContaining(['audit', 'event']))
    const r = verifyText([...v1, ...build(false).lines].join('\n'))
    expect(r.streams).toHaveLength(2)
    expect(r.streams.every((s) => s.intact.length === 1)).toBe(true)
  })
})

describe('chain format 2: any change to an export is found', () => {
  const { lines } = build()
  /** Paths of the committed values of a record, leaves only. */
  const leaves = (v: unknown, path: (string | number)[] = []): (string | number)[][] => {
    if (v === null || typeof v !== 'object') return [path]
    return Object.entries(v as Obj).flatMap(([k, x]) =>
      leaves(x, [...path, Array.isArray(v) ? Number(k) : k]),
    )
  }

  it('property: one changed value anywhere (integrity included) never verifies clean', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.string({ minLength: 1, maxLength: 8 }), (li, pi, text) => {
        const s = li % lines.length
        const rec = JSON.parse(lines[s]!)
        const paths = leaves(rec).filter((p) => p.join('.') !== 'ecs.version')
        const path = paths[pi % paths.length]!
        let target = rec
        for (const k of path.slice(0, -1)) target = target[k]
        const last = path[path.length - 1]!
        const old = target[last]
        const next = typeof old === 'number' ? old + 1 + text.length : `${String(old)}${text}`
        target[last] = next
        const copy = lines.slice()
        copy[s] = JSON.stringify(rec)
        // A change that makes the last record unreadable as ours deletes it: only a later time shows that.
        const r = verify(copy, { until: T0 + 3600_000 })
        expect(r.exitCode).not.toBe(0)
        // The changed seq is never reported authentic, unless the change moved the record elsewhere.
        if (!path.includes('seq') && !path.includes('stream'))
          expect(
            r.streams.find(
              (x) => x.intact.some(([a, b]) => a <= s && s <= b) && x.stream === rec.audit.integrity.stream,
            ),
          ).toBeUndefined()
      }),
      { numRuns: 200 },
    )
  })
})

describe('the logger writes format 2 in batches', () => {
  it('sealing thread to a file: several records per epoch, verifies intact; a change is named exactly', async () => {
    const file = join(dir, 'trail.ndjson')
    const audit = createAuditLogger({
      service: { name: 'svc', version: '1', instance: 'pod-1' },
      destination: file,
      integrity: { verifierKey: pair.publicKeyPem },
    })
    for (let i = 0; i < 300; i++)
      audit.access({
        action: 'patient-read',
        actor: { id: `u${i % 4}` },
        resource: { type: 'Patient', id: `p${i}` },
      } as never)
    await audit.close()
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
    const macs = lines.filter((l) => integrityOf(l).mac !== undefined).length
    expect(lines).toHaveLength(302)
    expect(macs).toBeLessThan(lines.length / 4)
    expect(verify(lines).exitCode).toBe(0)
    const s = 150
    const copy = lines.slice()
    copy[s] = copy[s]!.replace('"outcome":"success"', '"outcome":"failure"')
    const r = verify(copy)
    expect(of(r, 'modified').map((f) => f.seq)).toEqual([s])
    expect(of(r, 'unproven').every((f) => f.to === s - 1)).toBe(true)
  })
})
