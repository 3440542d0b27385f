/**
 * The order in which `vitest run` starts the repo's test files: the longest first, across every
 * package (vitest's own sequencer runs the projects one after another and sorts only within each).
 * With two files at a time, the longest-first order lets both workers finish together: with the
 * projects in turn, NestJS's shutdown test (about 25 s of a child process and its clients) started
 * after all of core, and one worker finished its share while the other still had it to run.
 *
 * How long a file takes: what the last run measured (vitest keeps it in node_modules/.vite, so
 * `npm ci` throws it away), else the rough figure below for the slowest files (CI's first suite
 * after `npm ci` has no timings of its own), else nothing (then the larger file first, as vitest
 * does). A file that failed last time still runs first. The order changes only when the files
 * start: each still runs alone in its own process, and no test depends on another file.
 */
import { relative } from 'node:path'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * Seconds the slowest files took in a whole run (Node 24, coverage on, two at a time; session 12).
 * Only the order matters: a file missing here, or a figure gone stale, costs some balance, nothing else.
 */
const SLOWEST: Record<string, number> = {
  'packages/core/test/faults.test.ts': 44,
  'packages/core/test/verify-streaming.test.ts': 39,
  'packages/core/test/shared-stdout.test.ts': 30,
  'packages/nestjs/test/shutdown.test.ts': 25,
  'packages/core/test/verify-threads.test.ts': 21,
  'packages/core/test/line-cap.test.ts': 19,
  'packages/core/test/exit.test.ts': 17,
  'packages/core/test/integrity-mutation.test.ts': 15,
  'packages/core/test/redaction-property.test.ts': 14,
  'examples/clinic-express/test/shipping.test.ts': 14,
  'packages/core/test/verify-junk.test.ts': 13,
  'packages/core/test/report-threads.test.ts': 12,
  'packages/express/test/shutdown.test.ts': 12,
  'packages/core/src/redact/memos.test.ts': 11,
  'examples/clinic-nest/test/clinic-nest.test.ts': 10,
  'packages/core/test/cli-verify.test.ts': 10,
  'examples/clinic-express/test/demo.test.ts': 9,
  'packages/core/src/events/serialize.test.ts': 9,
  'packages/core/test/otel-shutdown.test.ts': 8,
}

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { root } = this.ctx.config
    const cache = this.ctx.cache
    const weigh = (file: TestSpecification) => {
      const path = relative(root, file.moduleId)
      const key = `${file.project.name}:${path}`
      const last = cache.getFileTestResults(key)
      return {
        failed: last?.failed ?? false,
        ms: last?.duration ?? (SLOWEST[path] ?? 0) * 1000,
        size: cache.getFileStats(key)?.size ?? 0,
      }
    }
    const weights = new Map(files.map((file) => [file, weigh(file)]))
    return [...files].sort((a, b) => {
      const wa = weights.get(a)!
      const wb = weights.get(b)!
      if (wa.failed !== wb.failed) return wa.failed ? -1 : 1
      return wb.ms - wa.ms || wb.size - wa.size
    })
  }
}
