// autocannon ships no types; the part the express and nestjs benchmarks use (both tsconfigs include this folder).
declare module 'autocannon' {
  interface Result {
    requests: { average: number; total: number }
    latency: { p99: number }
    errors: number
    non2xx: number
  }
  function autocannon(options: {
    url: string
    connections?: number
    pipelining?: number
    duration?: number
    /** Total requests to send (instead of a duration). */
    amount?: number
    /** Seconds to wait for a response before counting a timeout (default 10). */
    timeout?: number
  }): Promise<Result>
  export default autocannon
}
