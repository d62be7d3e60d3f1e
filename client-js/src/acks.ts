import type { Clock } from "./clock.js";
import type { Cursors } from "./cursors.js";
import type { WireCursor } from "./frames.js";

/** Options of {@link AckBatcher}. */
export interface AckOptions {
  /** Ack after this many new messages. Default 100. */
  maxMessages?: number;
  /** Ack at the latest this long after the first unacknowledged message (ms). Default 1000. */
  maxDelayMs?: number;
}

/**
 * Batches acks: one `Ack` with the cursors that moved, every `maxMessages` messages or
 * `maxDelayMs` after the first message not yet acknowledged, whichever comes first. Never one ack
 * per message.
 */
export class AckBatcher {
  private readonly maxMessages: number;
  private readonly maxDelayMs: number;
  private readonly acked = new Map<string, number>();
  private count = 0;
  private timer: unknown = undefined;

  /**
   * @param cursors the application's cursors (what is acknowledged)
   * @param send sends one Ack's cursors; returns false when it could not be sent (kept for later)
   */
  constructor(
    private readonly cursors: Cursors,
    private readonly send: (cursors: WireCursor[]) => boolean,
    private readonly clock: Clock,
    options: AckOptions = {},
  ) {
    this.maxMessages = options.maxMessages ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 1000;
  }

  /** Counts one message handed to the application. */
  delivered(): void {
    this.count++;
    if (this.count >= this.maxMessages) {
      this.flush();
    } else if (this.timer === undefined) {
      this.timer = this.clock.set(() => {
        this.timer = undefined;
        this.flush();
      }, this.maxDelayMs);
    }
  }

  /** Sends the cursors that moved since the last ack now, if any. */
  flush(): void {
    this.cancel();
    const moved = this.cursors
      .entries()
      .filter(([stream, offset]) => this.acked.get(stream) !== offset);
    this.count = 0;
    if (moved.length === 0) {
      return;
    }
    const wire = moved.map(([stream, offset]) => ({ stream, offset: String(offset) }));
    if (this.send(wire)) {
      for (const [stream, offset] of moved) {
        this.acked.set(stream, offset);
      }
    }
  }

  /** Marks everything as acknowledged by other means (a Resume or a long-poll carries cursors). */
  markAcked(): void {
    this.cancel();
    this.count = 0;
    for (const [stream, offset] of this.cursors.entries()) {
      this.acked.set(stream, offset);
    }
  }

  /** Stops the timer (the connection went away; what is pending goes with the next Resume). */
  cancel(): void {
    if (this.timer !== undefined) {
      this.clock.clear(this.timer);
      this.timer = undefined;
    }
  }
}
