// The demo's insider: an account that pulls every patient in one search (a "bulk read"). With the
// clinic's privacy monitor on, the breadth rule trips during that request; the account's next
// request is refused with 403.

const CUDDY = { username: 'lisa.cuddy', password: 'dean-of-medicine' }

/** Runs the bulk read; returns the HTTP statuses of the search and of the request after it. */
export async function runBulkRead(baseUrl, { say = () => {} } = {}) {
  const call = async (label, method, path, { token, body } = {}) => {
    const res = await fetch(new URL(path, baseUrl), {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
        'user-agent': 'clinic-demo/1.0 (scripted bulk read)',
      },
      body: body ? JSON.stringify(body) : undefined,
    })
    const text = await res.text()
    say(`${method.padEnd(5)} ${path} -> ${res.status}  (${label})`)
    return { status: res.status, json: res.ok && text ? JSON.parse(text) : undefined }
  }
  const login = await call('another account logs in', 'POST', '/auth/login', { body: CUDDY })
  if (login.status !== 200) throw new Error(`bulk read: login failed with HTTP ${login.status}`)
  const token = login.json.access_token
  // ILIKE '%': every patient in the result list, each one an access event.
  const search = await call('search matching every patient', 'GET', '/patients?family_name=%25', { token })
  const after = await call('the same account, next request', 'GET', '/patients?family_name=%25', { token })
  return { search: search.status, after: after.status, listed: search.json?.length ?? 0 }
}
