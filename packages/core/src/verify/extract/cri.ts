/**
 * Kubernetes CRI log lines, `<time> stdout|stderr F|P <text>`: partial (P) lines wait for their
 * final (F) line, per output stream, up to MAX_PENDING characters.
 */
const CRI = /^\d{4}-\d\d-\d\dT\S+ (stdout|stderr) ([FP])(?: ([\s\S]*))?$/
const MAX_PENDING = 16 * 1024 * 1024

/** The CRI fields of a line, or null when it is not one (cheap test first: most lines are not). */
export function criFields(text: string): RegExpExecArray | null {
  return text.length > 30 && text.charCodeAt(4) === 45 ? CRI.exec(text) : null
}

export interface Joined {
  text: string
  /** The line of its first part. */
  line: number
}

export class CriJoiner {
  private readonly partial = new Map<string, Joined>()

  get idle(): boolean {
    return this.partial.size === 0
  }

  /**
   * The text a final line completes; undefined while partial lines wait. A partial text that grows
   * beyond the limit is dropped and its first line given to `tooLong`.
   */
  join(cri: RegExpExecArray, line: number, tooLong: (line: number) => void): Joined | undefined {
    const stream = cri[1]!
    const content = cri[3] ?? ''
    const sofar = this.partial.get(stream)
    if (cri[2] === 'P') {
      const text = (sofar?.text ?? '') + content
      if (text.length < MAX_PENDING) this.partial.set(stream, { text, line: sofar?.line ?? line })
      else {
        this.partial.delete(stream)
        tooLong(sofar?.line ?? line)
      }
      return undefined
    }
    this.partial.delete(stream)
    return { text: (sofar?.text ?? '') + content, line: sofar?.line ?? line }
  }

  /** What still waits at the end of the input, in line order (then forgotten). */
  rest(): Joined[] {
    const rest = [...this.partial.values()].sort((a, b) => a.line - b.line)
    this.partial.clear()
    return rest
  }
}
