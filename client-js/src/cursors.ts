import type { WireCursor } from "./frames.js";

/** What {@link Cursors.accept} decided about a delivery. */
export type Verdict = "new" | "duplicate";

/**
 * The highest offset the application has, per stream ("@" for the session inbox, or a group).
 * Deliveries at or below it are duplicates (at-least-once on the wire, exactly once to the
 * application); the cursors are what a `Resume` hands over and what acks report.
 */
export class Cursors {
  private readonly offsets = new Map<string, number>();

  constructor(initial?: Iterable<[string, number]>) {
    if (initial) {
      for (const [stream, offset] of initial) {
        this.offsets.set(stream, offset);
      }
    }
  }

  /** The cursor of `stream`, or undefined when it has none. */
  get(stream: string): number | undefined {
    return this.offsets.get(stream);
  }

  /** Whether a delivery of `stream` at `offset` is new; a new one moves the cursor. */
  accept(stream: string, offset: number): Verdict {
    const current = this.offsets.get(stream);
    if (current !== undefined && offset <= current) {
      return "duplicate";
    }
    this.offsets.set(stream, offset);
    return "new";
  }

  /** Sets the cursor of `stream` where it has none yet (e.g. a group's head at Joined). */
  initialize(stream: string, offset: number): void {
    if (!this.offsets.has(stream)) {
      this.offsets.set(stream, offset);
    }
  }

  /**
   * Lowers the cursor of `stream` to `head` when it is past it: the node reported that the stream
   * never had those offsets (a stream since reset), so what it publishes next is new, not a
   * duplicate.
   */
  clampTo(stream: string, head: number): void {
    const current = this.offsets.get(stream);
    if (current !== undefined && current > head) {
      this.offsets.set(stream, head);
    }
  }

  /** Forgets `stream` (after leaving a group). */
  delete(stream: string): void {
    this.offsets.delete(stream);
  }

  /** Every cursor, for a Resume or a long-poll request. */
  toWire(): WireCursor[] {
    return [...this.offsets].map(([stream, offset]) => ({ stream, offset: String(offset) }));
  }

  /** Every cursor as [stream, offset] pairs (for storage). */
  entries(): [string, number][] {
    return [...this.offsets];
  }
}
