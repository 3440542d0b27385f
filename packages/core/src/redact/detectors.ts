// The value layer: built-in detectors for identifiers inside free text. Each is one precompiled global
// regular expression, a validity check where the format has one (SSN ranges, Luhn), and a gate
// (digits, '@', a cue word) so that ordinary strings skip it without running the expression at all.
//
// Formats with many harmless look-alikes (bare 9- or 10-digit numbers, dates, short ids, capitalised
// words) are only taken after a cue word ("SSN", "DOB", "MRN", "patient", "Mr"), the way Presidio's
// context enhancer and Google DLP hotword rules gate weak patterns.
import { isIPv6 } from 'node:net'
import { F_ADDR, F_AT, F_CUE, F_DIGIT, F_NAMECUE, F_PLUS, F_UPPER } from './text'

export interface BuiltinDetector {
  /** Category in the mask and the name `disableDetectors` uses. */
  name: string
  re: RegExp
  /** Group 1 is context kept as is (the cue), group 2 the identifier replaced. */
  prefixed: boolean
  validate?: (value: string) => boolean
  /** Flags from `scan()` that must all be present before the expression runs. */
  need: number
  /** Longest numeric run the string needs (`scan()`), e.g. 9 for an SSN. */
  minRun: number
  /** Off unless named in `detectors` (IP addresses and zip codes: server addresses are not PHI). */
  optIn: boolean
}

/** Names of the built-in detectors (for `disableDetectors`, and `detectors` for the opt-in ones). */
export const BUILTIN_NAMES = [
  'email',
  'card',
  'ssn',
  'phone',
  'mrn',
  'dob',
  'address',
  'name',
  'ip',
  'zip',
] as const
export const OPT_IN_NAMES = ['ip', 'zip'] as const

// Number boundaries: no letter or digit right before or after, and not the fraction of a decimal
// (0.4111111111111111 is not a card number).
const NB = '(?<![A-Za-z0-9]|[0-9][.,])'
const NA = '(?![A-Za-z0-9]|[.,][0-9])'
// Between a cue and its value: a few non-word characters, e.g. ": ", " #", "\":\"", " is ".
const GAP = '[^A-Za-z0-9\\n]{0,5}(?:(?:is|was|on|at|of|number|no|num|nbr|#)[^A-Za-z0-9\\n]{1,3})?'

/** Case-insensitive spelling of a literal for expressions that must stay case-sensitive elsewhere. */
function ci(word: string): string {
  return word.replace(/[a-z]/g, (c) => `[${c.toUpperCase()}${c}]`)
}

/** Luhn checksum over a string of digits. */
export function luhn(digits: string): boolean {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (d < 0 || d > 9) return false
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum % 10 === 0
}

/** SSA rules: area 000, 666 and 900-999, group 00 and serial 0000 are never issued. */
export function validSsn(digits: string): boolean {
  if (digits.length !== 9) return false
  const area = digits.slice(0, 3)
  return (
    area !== '000' &&
    area !== '666' &&
    area[0] !== '9' &&
    digits.slice(3, 5) !== '00' &&
    digits.slice(5) !== '0000'
  )
}

/** Issuer prefixes of the payment networks (Visa, Mastercard, Amex, Diners, JCB, Discover, UnionPay, Maestro). */
export function cardIssuer(digits: string): boolean {
  const a = digits.charCodeAt(0) - 48
  const b = digits.charCodeAt(1) - 48
  switch (a) {
    case 2:
      return b >= 2 && b <= 7
    case 3:
      return b === 0 || b >= 4
    case 4:
    case 5:
    case 6:
      return true
    default:
      return false
  }
}

const onlyDigits = (s: string) => s.replace(/\D/g, '')

export function validCard(match: string): boolean {
  const d = onlyDigits(match)
  return d.length >= 13 && d.length <= 19 && cardIssuer(d) && luhn(d)
}

// Characters of an email local part (RFC 5322 atext and dots), letters of any script.
const ATEXT = "\\p{L}\\p{N}!#$%&'*+/=?^_`{|}~.\\-"

const MONTH =
  '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)'
const DATE = `(?:\\d{4}[-/.]\\d{1,2}[-/.]\\d{1,2}|\\d{1,2}[-/.]\\d{1,2}[-/.](?:\\d{4}|\\d{2})|${MONTH}\\.?[ \\t]+\\d{1,2}(?:st|nd|rd|th)?,?[ \\t]+\\d{4}|\\d{1,2}(?:st|nd|rd|th)?[ \\t]+(?:of[ \\t]+)?${MONTH}\\.?,?[ \\t]+\\d{4}|\\d{8})`

// A capitalised word of a name: "Smith", "O'Brien", "McDonald", "Anne-Marie", "Élodie"; it ends with a
// letter, so a closing quote stays ("'Patient: Jane Roe'").
const NAME_WORD = "\\p{Lu}(?:[\\p{L}'’\\-]{0,30}\\p{L})?"
const NAME = `${NAME_WORD}(?:[ \\t]+(?:\\p{Lu}\\.|${NAME_WORD})){0,3}`
const NAME_CUE = [
  // "name: John Smith", "Patient: John", "patientName=John", "\"last_name\":\"Smith\""
  `\\b(?:(?:(?:${['patient', 'full', 'first', 'last', 'given', 'family', 'middle', 'legal', 'contact'].map(ci).join('|')})[ \\t_-]?)?${ci('name')}|${ci('patient')})[ \\t]*["']?[ \\t]*[:=][ \\t]*["']?[ \\t]*`,
  // "patient John Smith", "patient named John"
  `\\b${ci('patient')}(?:[ \\t]+${ci('named')})?[ \\t]+`,
  // "Mr. Smith", "Dr Jane Doe"
  '\\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Mister)\\.?[ \\t]+',
].join('|')

// Capitalised words that follow a cue without being a name ("Patient Record not found").
export const NOT_NAMES: ReadonlySet<string> = new Set(
  (
    'record records not found is was id ids name names portal data information info chart list search summary details ' +
    'profile created updated deleted unknown none null undefined error access read write notes note the a an and or ' +
    'of for with from in on at to by admitted discharged transferred status visit encounter history account login ' +
    'logout session request response query result results missing invalid required field value type true false'
  ).split(' '),
)

// Class-like words after "name:" in error dumps ("name: 'SequelizeDatabaseError'").
const CODE_WORD =
  /(?:Error|Exception|Warning|Handler|Service|Controller|Module|Provider|Event|Request|Response)$/

function validName(value: string): boolean {
  const first = value.split(/[ \t]/, 1)[0]!
  if (!/\p{Ll}/u.test(first)) return false // "GET", "ID": acronyms, not names
  return !NOT_NAMES.has(first.toLowerCase()) && !CODE_WORD.test(first)
}

const STREET_SUFFIXES = [
  'Street',
  'St',
  'Avenue',
  'Ave',
  'Road',
  'Rd',
  'Boulevard',
  'Blvd',
  'Lane',
  'Ln',
  'Drive',
  'Dr',
  'Court',
  'Ct',
  'Way',
  'Place',
  'Pl',
  'Terrace',
  'Ter',
  'Circle',
  'Cir',
  'Parkway',
  'Pkwy',
  'Highway',
  'Hwy',
  'Square',
  'Sq',
  'Trail',
  'Trl',
  'Alley',
  'Crescent',
  'Plaza',
  'Heights',
]
const SUFFIX = STREET_SUFFIXES.sort((a, b) => b.length - a.length)
  .map((s) => `[${s[0]}${s[0]!.toLowerCase()}]${s.slice(1)}`)
  .join('|')
const ADDR_WORD = "\\p{Lu}[\\p{L}'’\\-]{0,25}"
const UNIT = `(?:,?[ \\t]*(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|Rm|Room|Bldg|#)\\.?[ \\t]*#?[A-Za-z0-9-]{1,6}(?![A-Za-z0-9]))?`
const CITY = `(?:,[ \\t]*${ADDR_WORD}(?:[ \\t]+${ADDR_WORD}){0,3}(?:,?[ \\t]+[A-Z]{2}(?![A-Za-z]))?(?:[ \\t]+\\d{5}(?:-\\d{4})?(?!\\d))?)?`
const ADDRESS = `${NB}\\d{1,6}[A-Za-z]?(?:[ \\t]+(?:${ADDR_WORD}|\\d{1,4}(?:st|nd|rd|th))){1,6}?[ \\t]+(?:${SUFFIX})\\.?(?![\\p{L}\\p{N}])${UNIT}${CITY}`
const PO_BOX = '\\b[Pp]\\.?[ \\t]?[Oo]\\.?[ \\t]+[Bb][Oo][Xx][ \\t]+\\d{1,6}(?!\\d)'

function d(
  name: string,
  source: string,
  flags: string,
  opts: Partial<Omit<BuiltinDetector, 'name' | 're'>> = {},
): BuiltinDetector {
  return {
    name,
    re: new RegExp(source, flags),
    prefixed: opts.prefixed ?? false,
    validate: opts.validate,
    need: opts.need ?? 0,
    minRun: opts.minRun ?? 0,
    optIn: opts.optIn ?? false,
  }
}

/**
 * The built-in detectors in the order they run. Earlier ones take precedence: an email is masked
 * before its digits could look like a phone number, a card before its groups look like anything else.
 */
export const BUILTIN_DETECTORS: readonly BuiltinDetector[] = [
  d(
    'email',
    // Starts only where a run of local-part characters starts, so a hostile run is walked once.
    `(?<![${ATEXT}])[${ATEXT}]{1,256}@(?:[\\p{L}\\p{N}](?:[\\p{L}\\p{N}\\-]{0,61}[\\p{L}\\p{N}])?\\.){1,8}\\p{L}{2,24}(?![\\p{L}\\p{N}\\-])`,
    'gu',
    { need: F_AT },
  ),
  d(
    'card',
    // 13-19 digits, plain or in the printed groups (4-4-4-4[-1..3], Amex 4-6-5, Diners 4-6-4); not
    // after '+' (that is an international phone number).
    `(?<![A-Za-z0-9+]|[0-9][.,])(?:[2-6]\\d{12,18}|[2-6]\\d{3}([ -])\\d{4}\\1\\d{4}\\1\\d{4}(?:\\1\\d{1,3})?|3\\d{3}([ -])\\d{6}\\2\\d{4,5})${NA}`,
    'g',
    { validate: validCard, need: F_DIGIT, minRun: 13 },
  ),
  d('ssn', `${NB}[0-8]\\d{2}([- ])\\d{2}\\1\\d{4}${NA}`, 'g', {
    validate: (m) => validSsn(onlyDigits(m)),
    need: F_DIGIT,
    minRun: 9,
  }),
  d(
    'ssn',
    // Nine bare digits only after "SSN" / "social security (number)".
    `(\\b(?:ssn|ss#|ss no|social[ _-]?security(?:[ _-]?(?:number|no|num|#))?)${GAP})([0-8]\\d{8})${NA}`,
    'gi',
    { prefixed: true, validate: validSsn, need: F_DIGIT, minRun: 9 },
  ),
  d(
    'phone',
    // NANP with separators: (555) 123-4567, 555-123-4567, 555.123.4567, +1 555 123 4567.
    `${NB}(?:\\+?1[ .-]?)?(?:\\(\\d{3}\\)[ .-]?\\d{3}[ .-]?\\d{4}|\\d{3}([ .-])\\d{3}\\1\\d{4})${NA}`,
    'g',
    { need: F_DIGIT, minRun: 10 },
  ),
  d(
    'phone',
    // International: +<country> then digits, groups split by single separators (no ambiguity to backtrack).
    `(?<![A-Za-z0-9+])\\+[1-9]\\d{0,14}(?:[ .-]?\\(\\d{1,4}\\)[ .-]?\\d{1,12}|[ .-]\\d{1,12}){0,6}${NA}`,
    'g',
    {
      validate: (m) => {
        const n = onlyDigits(m).length
        return n >= 8 && n <= 15
      },
      need: F_DIGIT | F_PLUS,
      minRun: 7,
    },
  ),
  d(
    'phone',
    // Ten bare digits only after "phone", "tel", "mobile", "fax", ...
    `(\\b(?:phone|tel|telephone|mobile|cell|fax|call|sms|text|pager)(?:[ _-]?(?:number|no|num|#))?${GAP})(\\+?1?[2-9]\\d{9})${NA}`,
    'gi',
    { prefixed: true, need: F_DIGIT, minRun: 10 },
  ),
  d(
    'mrn',
    `(\\b(?:mrn|medical[ _-]?record(?:[ _-]?(?:number|no|num|nbr|#|id))?|med[ _-]?rec(?:[ _-]?(?:no|num|#))?|chart[ _-]?(?:number|no|num|#)|patient[ _-]?(?:id|no|num|number|#))${GAP})([A-Za-z0-9][A-Za-z0-9-]{2,63})(?![A-Za-z0-9-])`,
    'gi',
    { prefixed: true, validate: (v) => /\d/.test(v), need: F_DIGIT | F_CUE },
  ),
  d(
    'dob',
    `(\\b(?:dob|d\\.o\\.b\\.?|date[ _-]?of[ _-]?birth|birth[ _-]?date|birthday|born(?:[ \\t]+on)?)${GAP})(${DATE})(?!\\d)`,
    'gi',
    { prefixed: true, need: F_DIGIT | F_CUE },
  ),
  d('address', ADDRESS, 'gu', { need: F_ADDR }),
  d('address', PO_BOX, 'g', { need: F_DIGIT | F_CUE }),
  d('name', `(${NAME_CUE})(${NAME})`, 'gu', {
    prefixed: true,
    validate: validName,
    need: F_UPPER | F_NAMECUE,
  }),
  d(
    'ip',
    `${NB}(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)${NA}|(?<![A-Za-z0-9:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![A-Za-z0-9:])`,
    'g',
    { validate: (m) => m.includes('.') || isIPv6(m), optIn: true },
  ),
  d('zip', `${NB}\\d{5}(?:-\\d{4})?${NA}`, 'g', { need: F_DIGIT, minRun: 5, optIn: true }),
]

/** How the pseudonym input is normalised per category, so that formatting variants correlate. */
export function normalizeFor(category: string, value: string): string {
  switch (category) {
    case 'ssn':
    case 'card':
      return onlyDigits(value)
    case 'phone': {
      const digits = onlyDigits(value)
      return digits.length === 11 && digits[0] === '1' ? digits.slice(1) : digits
    }
    case 'email':
      return value.trim().toLowerCase()
    case 'name':
    case 'address':
    case 'dob':
    case 'date':
      return value.trim().replace(/\s+/g, ' ').toLowerCase()
    default:
      return value.trim()
  }
}
