import type { Clock } from "../../src/clock.js";
import type { ClientFrame, ServerFrame } from "../../src/frames.js";
import type { Transport, TransportKind, TransportSink } from "../../src/transport.js";

/** A clock whose time moves only when told: timers run in due order during {@link advance}. */
export class FakeClock implements Clock {
  private time = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  set(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  }

  clear(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers waiting. */
  get waiting(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running every timer that falls due (and awaiting microtasks). */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await flush();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) {
          next = entry;
        }
      }
      if (!next) {
        break;
      }
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = end;
    await flush();
  }
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await Promise.resolve();
  }
}

/** A transport driven by the test: it records what the client sends and answers what it is told. */
export class FakeTransport implements Transport {
  hello: ClientFrame | undefined;
  token: string | undefined;
  readonly sent: ClientFrame[] = [];
  isOpen = false;
  closed = false;

  constructor(
    readonly kind: TransportKind,
    private readonly sink: TransportSink,
  ) {}

  open(hello: ClientFrame, token: string | undefined): void {
    this.hello = hello;
    this.token = token;
    this.isOpen = true;
  }

  send(frame: ClientFrame): boolean {
    if (!this.isOpen || this.closed) {
      return false;
    }
    this.sent.push(frame);
    return true;
  }

  close(): void {
    this.closed = true;
    this.isOpen = false;
  }

  /** The node sends a frame. */
  receive(frame: ServerFrame): void {
    this.sink.frame(frame);
  }

  /** The transport ends by itself. */
  fail(opened: boolean, reason = "cut by the test", status?: number): void {
    this.isOpen = false;
    this.sink.end({ opened, reason, status });
  }

  /** Answers the hello with Connected. */
  accept(options: { sessionId?: string; resumed?: boolean; groups?: string[] } = {}): void {
    this.receive({
      id: this.hello!.id,
      connected: {
        sessionId: options.sessionId ?? "s1",
        resumeToken: "rt1",
        resumed: options.resumed,
        userId: "alice",
        groups: options.groups,
        pingIntervalMs: 10_000,
        node: "test",
      },
    });
  }

  /** Frames sent of one kind. */
  sentOf<K extends keyof ClientFrame>(kind: K): ClientFrame[] {
    return this.sent.filter((f) => f[kind] !== undefined);
  }
}

/** Makes fake transports and keeps them in order of creation. */
export class FakeTransports {
  readonly made: FakeTransport[] = [];

  readonly factory = (kind: TransportKind, sink: TransportSink): Transport => {
    const t = new FakeTransport(kind, sink);
    this.made.push(t);
    return t;
  };

  get last(): FakeTransport {
    return this.made[this.made.length - 1];
  }
}

/** Base64 of UTF-8 text. */
export function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/** A delivery frame. */
export function delivery(stream: string, offset: number, text = `m${offset}`): ServerFrame {
  return { delivery: { stream, offset: String(offset), payload: b64(text), timestampMs: "1" } };
}
