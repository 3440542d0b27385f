import { describe, expect, it } from 'vitest'
import { compileKeyMatcher, keyWords, normalizeKey } from './keys'

const match = compileKeyMatcher()
const category = (k: string) => match(k).category

describe('key normalisation', () => {
  it('splits separators and camelCase, lowercases', () => {
    expect(keyWords('patientEmail')).toEqual(['patient', 'email'])
    expect(keyWords('SSNNumber')).toEqual(['ssn', 'number'])
    expect(keyWords('x-api-key')).toEqual(['x', 'api', 'key'])
    expect(normalizeKey('Date_of.Birth')).toBe('dateofbirth')
    expect(normalizeKey('home address')).toBe('homeaddress')
  })
})

describe('PHI keys', () => {
  it.each([
    ['ssn', 'ssn'],
    ['SSN', 'ssn'],
    ['social_security_number', 'ssn'],
    ['ssnLast4', 'ssn'],
    ['dob', 'dob'],
    ['birthDate', 'dob'],
    ['date-of-birth', 'dob'],
    ['email', 'email'],
    ['patientEmail', 'email'],
    ['EMAIL_ADDRESS', 'email'],
    ['emailaddr', 'email'],
    ['phone', 'phone'],
    ['homePhone', 'phone'],
    ['mobile_number', 'phone'],
    ['fax', 'phone'],
    ['telecom', 'phone'],
    ['address', 'address'],
    ['homeAddress', 'address'],
    ['billing.address', 'address'],
    ['address2', 'address'],
    ['street', 'address'],
    ['city', 'address'],
    ['zip', 'address'],
    ['postalCode', 'address'],
    ['firstName', 'name'],
    ['last_name', 'name'],
    ['fullName', 'name'],
    ['middle-name', 'name'],
    ['patientName', 'name'],
    ['givenName', 'name'],
    ['family_name', 'name'],
    ['surname', 'name'],
    ['mrn', 'mrn'],
    ['patientMRN', 'mrn'],
    ['medicalRecordNumber', 'mrn'],
    ['patientId', 'mrn'],
    ['memberId', 'health_plan'],
    ['beneficiary_id', 'health_plan'],
    ['insuranceNumber', 'health_plan'],
    ['healthPlanId', 'health_plan'],
    ['accountNumber', 'account'],
    ['account_id', 'account'],
    ['licenseNumber', 'license'],
    ['driversLicense', 'license'],
    ['licensePlate', 'vehicle'],
    ['vin', 'vehicle'],
    ['serialNumber', 'device'],
    ['deviceId', 'device'],
    ['macAddress', 'device'],
    ['cardNumber', 'card'],
    ['credit_card', 'card'],
    ['password', 'credential'],
    ['dbPassword', 'credential'],
    ['clientSecret', 'credential'],
    ['api_key', 'credential'],
    ['x-api-key', 'credential'],
    ['accessToken', 'credential'],
    ['token', 'credential'],
    ['Authorization', 'credential'],
    ['cookie', 'credential'],
    ['set-cookie', 'credential'],
    ['sessionId', 'session'],
    ['JSESSIONID', 'session'],
    ['ssnHash', 'ssn'],
    ['emailList', 'email'],
    ['phoneNumberHash', 'phone'],
  ])('%s -> %s', (key, cat) => {
    expect(category(key)).toBe(cat)
  })
})

describe('keys that are not PHI', () => {
  it.each([
    'name',
    'id',
    'type',
    'status',
    'userId',
    'username',
    'hostname',
    'filename',
    'ipAddress',
    'remoteAddress',
    'serverAddress',
    'ethnicity',
    'capacity',
    'gzip',
    'template',
    'microphone',
    'timeSpan',
    'requestId',
    'durationMs',
    'statusCode',
    'fingerprint',
    'action',
    'outcome',
    'roles',
    'mobileEnabled',
  ])('%s', (key) => {
    expect(category(key)).toBeNull()
  })
})

describe('person containers', () => {
  it('marks patient-like keys, and their name / id children', () => {
    expect(match('patient').person).toBe(true)
    expect(match('patients').person).toBe(true)
    expect(match('patientInfo').person).toBe(true)
    expect(match('emergencyContact').person).toBe(true)
    expect(match('user').person).toBe(false)
    expect(match('client').person).toBe(false)
    expect(match('name').personCategory).toBe('name')
    expect(match('id').personCategory).toBe('id')
    expect(match('status').personCategory).toBeNull()
  })
})

describe('extension points', () => {
  it('adds user keys (with their own category) and allow-lists keys', () => {
    const m = compileKeyMatcher({ keys: ['chartRef', 'ipAddress'], allowKeys: ['accountId'] })
    expect(m('chart_ref').category).toBe('chartref')
    expect(m('primaryChartRef').category).toBe('chartref')
    expect(m('ipAddress').category).toBe('ipaddress')
    expect(m('account-id').category).toBeNull()
    expect(m('email').category).toBe('email')
  })
})
