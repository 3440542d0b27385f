/**
 * The request ids that access events named, kept until their request's http-request record comes
 * (see Tally): a map of at most `2 * max` live ids, in two generations.
 *
 * Ids go into the young generation; when it holds `max` live ids it becomes the old one and the
 * previous old one is dropped whole. An id named once is therefore kept for at least `max` later
 * ids (each named id that is still waiting), and at most `2 * max`: memory stays bounded however
 * many requests never get a record (a job that sets a request id, an ignored route).
 *
 * Why not a map that evicts its oldest id one at a time (RecentMap): a report over a stream whose
 * access events carry request ids but whose requests have no record keeps the map full, so every
 * access event paid an insertion, a look-up and an eviction (three hash operations in a 65,536-id
 * table, most of the report's main-thread time). Here it pays one insertion. An id kept longer
 * than the one-at-a-time map would have kept it can only turn a request that would have been
 * listed as "no access event" into one whose access event is found, which it was: the access event
 * is in the trail.
 */
export class StatedIds {
  private young = new Map<string, string>()
  private old = new Map<string, string>()

  constructor(private readonly max: number) {}

  /** Ids held (an id named again after it aged may count twice, until the old generation goes). */
  get size(): number {
    return this.young.size + this.old.size
  }

  /** Records that `stream` named `id` (the latest naming wins, as a Map's set). */
  set(id: string, stream: string): void {
    this.young.set(id, stream)
    if (this.young.size >= this.max) {
      this.old = this.young
      this.young = new Map()
    }
  }

  /** The stream that last named `id`, if it is still held. */
  get(id: string): string | undefined {
    return this.young.get(id) ?? this.old.get(id)
  }

  /** Forgets `id` in both generations (an aged copy must not state a later request). */
  delete(id: string): void {
    this.young.delete(id)
    this.old.delete(id)
  }
}
