/**
 * The lean six-field access event the core benchmarks log (integrity.ts, handover.ts): what a
 * service writes when a clinician opens a patient's chart. `details` adds fields on top.
 */
export const actor = {
  id: 'CiQwOGE4Njg0Yi1kYjg4',
  roles: ['clinician', 'ward-7'],
  domain: 'https://dex.example.org',
}

export function accessEvent(details?: Record<string, unknown>) {
  return {
    action: 'patient-record-read',
    outcome: 'success' as const,
    actor,
    resource: { type: 'patient', id: '8c1d2f6e-4b1a-4c55-9a57-0d7b7c1a1f20' },
    purpose: 'treatment',
    reason: 'chart review before rounds',
    details,
  }
}
