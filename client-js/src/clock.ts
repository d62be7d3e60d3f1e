/**
 * Time as the SDK sees it: the current time and timers. Injectable so that tests can drive the
 * SDK's timing (backoff, ack batching, timeouts) without waiting.
 */
export interface Clock {
  /** Milliseconds since some fixed point (only differences matter). */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds; returns a handle for {@link Clock.clear}. */
  set(fn: () => void, ms: number): unknown;
  /** Cancels a timer made by {@link Clock.set}; a handle of a timer that already ran is ignored. */
  clear(handle: unknown): void;
}

/** The real clock: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
