/** Tracks whether a JSON text is still open (unbalanced brackets outside strings). */
export interface Balance {
  depth: number
  inString: boolean
  escaped: boolean
}

export function newBalance(): Balance {
  return { depth: 0, inString: false, escaped: false }
}

export function scan(text: string, b: Balance): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (b.inString) {
      if (b.escaped) b.escaped = false
      else if (c === 92) b.escaped = true
      else if (c === 34) b.inString = false
      continue
    }
    if (c === 34) b.inString = true
    else if (c === 123 || c === 91) b.depth++
    else if (c === 125 || c === 93) b.depth--
  }
}

export function tryParse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
