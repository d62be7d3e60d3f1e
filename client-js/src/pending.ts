import type { Clock } from "./clock.js";
import { SwitchboardError } from "./errors.js";
import type { ClientFrame, ServerFrame } from "./frames.js";

/** A frame waiting for its answer. */
interface Op {
  readonly id: number;
  readonly frame: ClientFrame;
  /** Resent after a reconnection when it was in flight (joins, leaves, keyed publishes). */
  readonly retryable: boolean;
  sent: boolean;
  timer: unknown;
  answer(frame: ServerFrame): void;
  fail(error: SwitchboardError): void;
}

/**
 * The client's frames that wait for an answer, by frame id. Every one settles exactly once: with
 * its answer, at its timeout, when the connection goes away (unless it is safe to resend), or when
 * the client closes. None hangs.
 */
export class PendingFrames {
  private readonly ops = new Map<number, Op>();

  constructor(private readonly clock: Clock) {}

  /** How many frames wait. */
  get size(): number {
    return this.ops.size;
  }

  /**
   * Registers `frame` (its `id` must be set); the promise settles with `settle(answer)` or a
   * {@link SwitchboardError}.
   */
  add<T>(
    frame: ClientFrame,
    options: { timeoutMs: number; retryable: boolean; what: string },
    settle: (answer: ServerFrame) => T,
  ): Promise<T> {
    const id = Number(frame.id);
    return new Promise<T>((resolve, reject) => {
      const op: Op = {
        id,
        frame,
        retryable: options.retryable,
        sent: false,
        timer: undefined,
        answer: (answer) => {
          try {
            resolve(settle(answer));
          } catch (e) {
            reject(e);
          }
        },
        fail: reject,
      };
      op.timer = this.clock.set(() => {
        if (this.ops.delete(id)) {
          reject(
            new SwitchboardError("TIMEOUT", `${options.what}: no answer within ${options.timeoutMs} ms`),
          );
        }
      }, options.timeoutMs);
      this.ops.set(id, op);
    });
  }

  /** Frames not sent on the current connection, in the order they were made. */
  unsent(): ClientFrame[] {
    return [...this.ops.values()]
      .filter((op) => !op.sent)
      .sort((a, b) => a.id - b.id)
      .map((op) => op.frame);
  }

  /** Marks the frame with `id` as sent on the current connection. */
  markSent(id: number): void {
    const op = this.ops.get(id);
    if (op) {
      op.sent = true;
    }
  }

  /** Settles the frame `answer` answers; false when no frame waits for that id. */
  answer(answer: ServerFrame): boolean {
    const id = Number(answer.id ?? 0);
    const op = this.ops.get(id);
    if (!op) {
      return false;
    }
    this.ops.delete(id);
    this.clock.clear(op.timer);
    op.answer(answer);
    return true;
  }

  /**
   * The connection went away: frames in flight that are safe to resend wait to be sent again;
   * the others fail with `DISCONNECTED` (their outcome is unknown).
   */
  connectionLost(): void {
    for (const op of [...this.ops.values()]) {
      if (!op.sent) {
        continue;
      }
      if (op.retryable) {
        op.sent = false;
      } else {
        this.fail(op, new SwitchboardError("DISCONNECTED", "the connection went away before the answer"));
      }
    }
  }

  /** Fails every waiting frame with `error`. */
  failAll(error: SwitchboardError): void {
    for (const op of [...this.ops.values()]) {
      this.fail(op, error);
    }
  }

  private fail(op: Op, error: SwitchboardError): void {
    this.ops.delete(op.id);
    this.clock.clear(op.timer);
    op.fail(error);
  }
}
