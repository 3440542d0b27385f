// The adapters share one build: see tsup.adapter.ts at the repository root.
export { default } from '../../tsup.adapter'
