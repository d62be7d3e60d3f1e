/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter (ms). Default 500. */
  initialMs?: number;
  /** Largest delay, before jitter (ms). Default 30 000. */
  maxMs?: number;
  /** Growth factor per failed attempt. Default 2. */
  multiplier?: number;
  /**
   * Share of each delay that is random, 0..1 (0.5: a delay d becomes d/2 + random·d/2). Spreads
   * the reconnects of many clients after a node went away. Default 0.5.
   */
  jitter?: number;
  /** Random numbers in [0, 1); injectable for tests. Default `Math.random`. */
  random?: () => number;
}

/**
 * Exponential backoff with jitter: attempt n (from 0) waits `min(maxMs, initialMs·multiplier^n)`,
 * of which the `jitter` share is random. {@link Backoff.reset} after a success.
 */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly multiplier: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private failures = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 500;
    this.maxMs = options.maxMs ?? 30_000;
    this.multiplier = options.multiplier ?? 2;
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    this.random = options.random ?? Math.random;
    if (!(this.initialMs >= 0) || !(this.maxMs >= this.initialMs) || !(this.multiplier >= 1)) {
      throw new RangeError("backoff needs 0 <= initialMs <= maxMs and multiplier >= 1");
    }
  }

  /** Attempts that failed since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** The bounds of the next delay, without taking it: [lowest, highest] ms. */
  nextRange(): [number, number] {
    const ceiling = this.ceiling(this.failures);
    return [ceiling * (1 - this.jitter), ceiling];
  }

  /** The delay before the next attempt (ms); counts one more failed attempt. */
  next(): number {
    const ceiling = this.ceiling(this.failures);
    this.failures++;
    return ceiling * (1 - this.jitter) + this.random() * ceiling * this.jitter;
  }

  /** Starts again from the initial delay (after a successful connection). */
  reset(): void {
    this.failures = 0;
  }

  private ceiling(n: number): number {
    return Math.min(this.maxMs, this.initialMs * Math.pow(this.multiplier, n));
  }
}
