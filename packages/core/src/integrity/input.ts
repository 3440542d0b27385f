// Input reading lives in ../verify/extract/; these names stay importable from here.

export {
  createExtractor,
  type Extractor,
  type ExtractorOptions,
  type FoundRecord,
} from '../verify/extract/extractor'
export { integrityOf } from '../verify/extract/find-records'
export type { InputStats } from '../verify/findings'
