// Bounds of the redaction walk. They keep the cost of one event bounded whatever the caller passes in,
// and keep the line well under the 16 KiB a container runtime will carry in one piece.

/** Objects nested deeper than this become `[Truncated]`. */
export const MAX_DEPTH = 8
/** Keys kept per object (the rest are counted in a `…` key). */
export const MAX_KEYS = 100
/** Items kept per array, Set or Map. */
export const MAX_ITEMS = 100
/** Characters kept per string value; longer strings are cut at a token boundary and end with `…`. */
export const MAX_STRING = 2048
/** Characters kept per object key. */
export const MAX_KEY = 128
/** Values visited per `redact()` call (a 16 KiB line holds far fewer); beyond it: `[Truncated]`. */
export const MAX_NODES = 5000
/** String characters scanned per `redact()` call; beyond it strings become `[Truncated]`. */
export const MAX_TOTAL_CHARS = 128 * 1024
/** Characters fed to the HMAC for one pseudonym: identifiers are short, a 10 MB string is not one. */
export const MAX_PSEUDONYM_INPUT = 1024
