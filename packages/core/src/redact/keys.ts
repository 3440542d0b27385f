// The key layer: object keys that name an identifier. Keys are compared after normalising case and
// separators ("Patient_Email", "patient-email", "patientEmail" are one key), and a key also matches
// when it ends with a known term as whole words ("homePhone", "billing.address", "x-api-key").

/**
 * Built-in PHI and credential key terms by category (the category appears in the mask,
 * `[REDACTED:<category>]`). Words are separated by spaces; matching joins them.
 */
export const KEY_TERMS: Readonly<Record<string, readonly string[]>> = {
  ssn: [
    'ssn',
    'ssns',
    'social security',
    'social security number',
    'social security no',
    'ssn last 4',
    'ssn last four',
    'last 4 ssn',
    'tax id',
    'tax id number',
    'tin',
    'itin',
    'taxpayer id',
    'national id',
    'national id number',
  ],
  dob: ['dob', 'date of birth', 'birth date', 'birth day', 'birthday', 'birth dt', 'dob dt'],
  date: [
    'date of death',
    'death date',
    'deceased date',
    'admission date',
    'admit date',
    'admission dt',
    'discharge date',
    'discharge dt',
  ],
  email: ['email', 'emails', 'e mail', 'email address', 'email addr', 'mail', 'mail address'],
  phone: [
    'phone',
    'phones',
    'phone number',
    'phone no',
    'phone num',
    'telephone',
    'telephone number',
    'tel',
    'tel no',
    'mobile',
    'mobile number',
    'mobile phone',
    'mobile no',
    'cell',
    'cell phone',
    'cell number',
    'fax',
    'fax number',
    'fax no',
    'pager',
    'home phone',
    'work phone',
    'msisdn',
    'telecom',
  ],
  address: [
    'address',
    'addresses',
    'addr',
    'street',
    'street address',
    'street line',
    'address line',
    'city',
    'town',
    'county',
    'zip',
    'zip code',
    'zip4',
    'postal code',
    'postcode',
    'post code',
    'postal',
    'geo',
    'geolocation',
    'geo location',
    'latitude',
    'longitude',
    'coordinates',
    'home address',
    'mailing address',
    'billing address',
    'shipping address',
    'residence',
  ],
  name: [
    'first name',
    'last name',
    'full name',
    'middle name',
    'given name',
    'given names',
    'family name',
    'surname',
    'maiden name',
    'mothers maiden name',
    'patient name',
    'legal name',
    'preferred name',
    'birth name',
    'nickname',
    'nick name',
    'fname',
    'lname',
    'mname',
    'initials',
    'contact name',
    'guardian name',
    'spouse name',
    'mother name',
    'father name',
    'parent name',
    'emergency contact name',
    'next of kin',
    'kin name',
    'cardholder name',
  ],
  mrn: [
    'mrn',
    'medical record number',
    'medical record no',
    'medical record num',
    'medical record',
    'medical record id',
    'med rec no',
    'medrec',
    'health record number',
    'chart number',
    'chart no',
    'patient id',
    'patient number',
    'patient no',
    'patient identifier',
    'patient mrn',
  ],
  account: [
    'account number',
    'account no',
    'account num',
    'account id',
    'acct',
    'acct no',
    'acct num',
    'bank account',
    'bank account number',
    'iban',
  ],
  health_plan: [
    'member id',
    'member number',
    'member no',
    'beneficiary id',
    'beneficiary number',
    'subscriber id',
    'subscriber number',
    'insurance id',
    'insurance number',
    'insurance member id',
    'policy number',
    'insurance policy number',
    'health plan id',
    'health plan number',
    'health plan beneficiary number',
    'medicaid id',
    'medicaid number',
    'medicare id',
    'medicare number',
    'mbi',
    'hicn',
  ],
  license: [
    'license number',
    'license no',
    'license id',
    'licence number',
    'driver license',
    'drivers license',
    'driver license number',
    'drivers license number',
    'dl number',
    'dl no',
    'passport',
    'passport number',
    'passport no',
    'certificate number',
  ],
  vehicle: [
    'license plate',
    'licence plate',
    'plate',
    'plate number',
    'plate no',
    'vin',
    'vehicle id',
    'vehicle identification number',
  ],
  device: [
    'serial',
    'serial number',
    'serial no',
    'device id',
    'device serial',
    'device serial number',
    'udi',
    'imei',
    'mac address',
  ],
  card: [
    'card number',
    'card no',
    'card num',
    'credit card',
    'credit card number',
    'cc number',
    'cc num',
    'ccn',
    'pan',
    'cvv',
    'cvc',
    'cvv2',
    'card cvv',
    'card security code',
    'debit card',
    'cardholder',
  ],
  biometric: ['biometric', 'biometrics', 'faceprint', 'voiceprint', 'retina scan'],
  credential: [
    'password',
    'passwd',
    'pwd',
    'passphrase',
    'pass phrase',
    'secret',
    'secrets',
    'client secret',
    'api key',
    'api secret',
    'api token',
    'access key',
    'secret key',
    'private key',
    'token',
    'access token',
    'refresh token',
    'id token',
    'auth token',
    'bearer token',
    'csrf token',
    'xsrf token',
    'authorization',
    'proxy authorization',
    'auth header',
    'cookie',
    'cookies',
    'set cookie',
    'otp',
    'totp',
    'mfa code',
    'pin',
    'pin code',
    'security answer',
    'security code',
    'credential',
    'credentials',
  ],
  session: [
    'session id',
    'sess id',
    'sid',
    'jsessionid',
    'phpsessid',
    'session token',
    'session key',
    'connect sid',
  ],
}

/**
 * Keys that end like a PHI term but name something else (server addresses are not PHI; the source IP
 * of a request has its own ECS field). Users can still add any of them with `keys`.
 */
const NOT_PHI = [
  'ip address',
  'remote address',
  'local address',
  'server address',
  'host address',
  'peer address',
  'bind address',
  'listen address',
  'socket address',
  'proxy address',
  'gateway address',
  'network address',
  'contract address',
  'ipv4 address',
  'ipv6 address',
  'ip4 address',
  'ip6 address',
  'microphone',
  'headphone',
  'headphones',
  'earphone',
  'iphone',
  'smartphone',
  'speakerphone',
  'megaphone',
  'xylophone',
  'saxophone',
]

/**
 * Keys naming a person: inside an object under one of them, `name`, `id` and the like are that
 * person's identifiers (`{ patient: { name, id } }`, FHIR `Patient.name`). Bare `name` and `id`
 * elsewhere are not PHI keys.
 */
const PERSON_CONTAINERS = [
  'patient',
  'patients',
  'person',
  'persons',
  'people',
  'member',
  'members',
  'subscriber',
  'subscribers',
  'beneficiary',
  'beneficiaries',
  'guarantor',
  'guardian',
  'insured',
  'dependent',
  'dependents',
  'spouse',
  'contact',
  'contacts',
  'emergency contact',
  'next of kin',
  'relative',
  'caregiver',
  'policy holder',
  'resident',
  'enrollee',
  'applicant',
  'claimant',
  'individual',
  'parent',
  'mother',
  'father',
  'child',
  'children',
  'newborn',
]

/** Second words that keep a person container a person container ("patientInfo", "member_details"). */
const PERSON_DESCRIPTORS = new Set([
  'info',
  'data',
  'record',
  'details',
  'demographics',
  'profile',
  'summary',
])

/** Keys that identify the person when they sit directly under a person container. */
const PERSON_CHILD: Readonly<Record<string, string>> = {
  name: 'name',
  names: 'name',
  first: 'name',
  last: 'name',
  given: 'name',
  family: 'name',
  middle: 'name',
  full: 'name',
  display: 'name',
  id: 'id',
  identifier: 'id',
  identifiers: 'id',
  number: 'id',
}

/** Trailing words that do not change what a key holds ("ssnHash", "emailList", "phoneNumber"). */
const MODIFIERS = new Set([
  'hash',
  'hashed',
  'digest',
  'sha',
  'sha256',
  'md5',
  'encrypted',
  'enc',
  'masked',
  'raw',
  'value',
  'val',
  'str',
  'string',
  'text',
  'normalized',
  'normalised',
  'plain',
  'plaintext',
  'original',
  'orig',
  'list',
  'array',
  'id',
  'ids',
  'number',
  'num',
  'no',
  'nr',
])

/**
 * Splits a key into lowercase words: separators `_ - . : /` and spaces, camelCase and PascalCase
 * boundaries ("SSNNumber" -> ssn, number). Digits stay with their word ("ssnLast4" -> ssn, last4).
 */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[\s_.\-:/]+/)
    .filter((w) => w.length > 0)
}

/** The normalised form of a key: its words joined ("Patient_Email" -> "patientemail"). */
export function normalizeKey(key: string): string {
  return keyWords(key).join('')
}

const join = (term: string) => term.replace(/ /g, '')

/** What the key layer decides about one key. */
export interface KeyVerdict {
  /** PHI category of the key, or null. */
  category: string | null
  /**
   * The key names a person (see PERSON_CONTAINERS): objects under it describe that person, and a string
   * directly under it (`{ patient: 'Jane Roe' }`) identifies them.
   */
  person: boolean
  /** A plural person key ("patients"): a number under it is a count, not an id. */
  plural: boolean
  /** Category when the key sits directly under a person container. */
  personCategory: string | null
  /** The key as written (sanitised, detectors applied), filled in by the walk. */
  out?: string
}

export interface KeyMatcherOptions {
  /** Extra PHI keys; their category is the normalised key unless it is a built-in term. */
  keys?: readonly string[]
  /** Keys never treated as PHI by the key layer. */
  allowKeys?: readonly string[]
}

/** Compiles the key layer once: a Map from normalised term to category, plus suffix rules. */
export function compileKeyMatcher(options: KeyMatcherOptions = {}): (key: string) => KeyVerdict {
  const terms = new Map<string, string>()
  for (const [category, list] of Object.entries(KEY_TERMS)) {
    for (const term of list) terms.set(join(term), category)
  }
  const notPhi = new Set(NOT_PHI.map(join))
  for (const k of options.keys ?? []) {
    const n = normalizeKey(k)
    if (n.length === 0) continue
    if (!terms.has(n)) terms.set(n, n.replace(/[^a-z0-9_]/g, '').slice(0, 32) || 'phi')
    notPhi.delete(n)
  }
  const allowed = new Set((options.allowKeys ?? []).map(normalizeKey))
  const persons = new Set(PERSON_CONTAINERS.map(join))
  // Terms also matched as the tail of a single lowercase word ("patientemail", "homephone"): only
  // the ones that are not the tail of unrelated words (unlike "city" in "ethnicity", "zip" in "gzip").
  const tails: [string, string][] = []
  for (const [term, category] of terms) {
    if (term.length >= 7 || term === 'email' || term === 'phone' || term === 'token' || term === 'secret') {
      tails.push([term, category])
    }
  }
  tails.sort((a, b) => b[0].length - a[0].length)

  const lookup = (words: string[]): string | null => {
    // Longest suffix of whole words first: "emailAddr" is an email, not an address.
    for (let i = 0; i < words.length; i++) {
      const tail = i === 0 ? words.join('') : words.slice(i).join('')
      const hit = terms.get(tail) ?? terms.get(tail.replace(/\d+$/, ''))
      if (hit !== undefined) return hit
    }
    return null
  }

  const categoryOf = (words: string[], normalized: string): string | null => {
    if (notPhi.has(normalized)) return null
    let hit = lookup(words)
    if (hit === null && words.length > 1 && MODIFIERS.has(words[words.length - 1]!)) {
      hit = lookup(words.slice(0, -1))
    }
    if (hit === null) {
      const bare = normalized.replace(/\d+$/, '')
      for (const [term, category] of tails) {
        if (bare.length > term.length && bare.endsWith(term)) return category
      }
    }
    return hit
  }

  return (key: string): KeyVerdict => {
    const words = keyWords(key)
    const normalized = words.join('')
    if (allowed.has(normalized)) return { category: null, person: false, plural: false, personCategory: null }
    const category = categoryOf(words, normalized)
    return {
      category,
      plural: normalized.endsWith('s') || normalized === 'people' || normalized === 'children',
      person:
        category === null &&
        (persons.has(normalized) ||
          (words.length === 2 && persons.has(words[0]!) && PERSON_DESCRIPTORS.has(words[1]!))),
      personCategory: category ?? PERSON_CHILD[normalized] ?? null,
    }
  }
}
