// The one place that understands pg's call shapes (client.query and pool.query take the same ones):
//   (text), (text, values), (text, cb), (text, values, cb)
//   (config), (config, values), (config, cb), (config, values, cb), config.callback
//   (submittable[, cb])  -- Query, pg-cursor, pg-query-stream, pg-copy-streams: returned as-is
// pg itself gives a callback argument priority over config.callback, and treats a function in the
// values position as the callback; this function follows the same rules.

export type QueryKind = 'promise' | 'callback' | 'submittable'

export interface QueryShape {
  kind: QueryKind
  /** SQL text (from the string, `config.text`, or the submittable's `text` / `cursor.text`). */
  text: string
  /** Prepared statement name. */
  name: string | undefined
  /** For `callback`: the function pg will call on completion. */
  callback: Function | undefined
  /** For `submittable`: the object itself. */
  submittable: Submittable | undefined
}

export interface Submittable {
  submit(connection: unknown): void
  text?: unknown
  name?: unknown
  cursor?: { text?: unknown }
  callback?: unknown
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

/** Normalises the arguments of client.query / pool.query; undefined when pg would reject them. */
export function queryShape(config: unknown, values: unknown, callback: unknown): QueryShape | undefined {
  if (config === null || config === undefined) return undefined
  if (typeof config === 'string') {
    const cb = typeof callback === 'function' ? callback : typeof values === 'function' ? values : undefined
    return {
      kind: cb ? 'callback' : 'promise',
      text: config,
      name: undefined,
      callback: cb,
      submittable: undefined,
    }
  }
  if (typeof config !== 'object' && typeof config !== 'function') return undefined
  const c = config as Submittable & { callback?: unknown }
  if (typeof c.submit === 'function') {
    const text = typeof c.text === 'string' ? c.text : textOf(c.cursor?.text)
    return {
      kind: 'submittable',
      text,
      name: typeof c.name === 'string' ? c.name : undefined,
      callback: undefined,
      submittable: c,
    }
  }
  const cb =
    typeof callback === 'function'
      ? callback
      : typeof values === 'function'
        ? values
        : typeof c.callback === 'function'
          ? c.callback
          : undefined
  return {
    kind: cb ? 'callback' : 'promise',
    text: textOf(c.text),
    name:
      typeof (c as { name?: unknown }).name === 'string'
        ? ((c as { name?: string }).name as string)
        : undefined,
    callback: cb,
    submittable: undefined,
  }
}

/**
 * The arguments to call pg with so that `wrapped` is the completion callback. Passing it as an
 * argument (never writing config.callback) leaves the caller's config object untouched: pg clones
 * the config and the argument wins over config.callback.
 */
export function withCallback(config: unknown, values: unknown, wrapped: Function): unknown[] {
  return typeof values === 'function' || values === undefined ? [config, wrapped] : [config, values, wrapped]
}
