import type { TransportKind } from "./transport.js";

/** Options of {@link TransportPolicy}. */
export interface TransportPolicyOptions {
  /** Transports allowed, in order of preference. Default `["websocket", "longpoll"]`. */
  transports?: TransportKind[];
  /**
   * Consecutive attempts over one transport that never reached `Connected` before the next
   * allowed transport is tried. Default 2.
   */
  failuresBeforeSwitch?: number;
}

/**
 * Which transport the next connection attempt uses: WebSocket first; after
 * `failuresBeforeSwitch` attempts in a row that failed before `Connected`, long-poll; while on
 * long-poll, a WebSocket that opens again ({@link TransportPolicy.websocketWorks}) is tried at the
 * next attempt, and one failure of it goes back to long-poll. When every transport keeps failing
 * (the network is down), they alternate.
 */
export class TransportPolicy {
  readonly transports: readonly TransportKind[];
  private readonly failuresBeforeSwitch: number;
  private index = 0;
  private failures = 0;

  constructor(options: TransportPolicyOptions = {}) {
    const allowed = options.transports ?? ["websocket", "longpoll"];
    if (allowed.length === 0) {
      throw new RangeError("at least one transport is needed");
    }
    this.transports = [...new Set(allowed)];
    this.failuresBeforeSwitch = Math.max(1, options.failuresBeforeSwitch ?? 2);
  }

  /** The transport of the next attempt. */
  current(): TransportKind {
    return this.transports[this.index];
  }

  /** An attempt over `kind` ended before `Connected`. */
  failed(kind: TransportKind): void {
    if (kind !== this.current()) {
      return;
    }
    this.failures++;
    if (this.failures >= this.failuresBeforeSwitch && this.transports.length > 1) {
      this.index = (this.index + 1) % this.transports.length;
      this.failures = 0;
    }
  }

  /** An attempt over `kind` reached `Connected`. */
  connected(kind: TransportKind): void {
    if (kind === this.current()) {
      this.failures = 0;
    }
  }

  /** Whether the client should check now and then that a WebSocket opens again. */
  shouldProbe(): boolean {
    return this.current() !== "websocket" && this.transports.includes("websocket");
  }

  /**
   * A WebSocket opened again while on another transport: the next attempt uses it, and a single
   * failure of that attempt falls back at once.
   */
  websocketWorks(): void {
    if (!this.transports.includes("websocket")) {
      return;
    }
    this.index = this.transports.indexOf("websocket");
    this.failures = this.failuresBeforeSwitch - 1;
  }
}
