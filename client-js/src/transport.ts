import { JSON_SUBPROTOCOL, type ClientFrame, type ServerFrame } from "./frames.js";

/** The two ways of carrying frames. */
export type TransportKind = "websocket" | "longpoll";

/** How a transport ended on its own (never reported after {@link Transport.close}). */
export interface TransportEnd {
  /** Whether it was ever open (a socket opened, or `/lp/open` answered 200). */
  opened: boolean;
  /** Human-readable cause. */
  reason: string;
  /** HTTP status of a refused long-poll open (401, 403, …), when that was the cause. */
  status?: number;
}

/** What a transport tells its client. */
export interface TransportSink {
  /** A frame arrived (in order of arrival). */
  frame(frame: ServerFrame): void;
  /** The transport ended by itself: network failure, refused, or the node closed it. */
  end(end: TransportEnd): void;
}

/**
 * One connection attempt's carrier of frames. {@link Transport.open} sends the hello (`Connect`
 * or `Resume`); frames then flow until the transport ends or is closed. A transport is used once.
 */
export interface Transport {
  readonly kind: TransportKind;
  /** Opens and sends `hello`; `token` may also be presented at the HTTP level. */
  open(hello: ClientFrame, token: string | undefined): void;
  /** Sends a frame; false when the transport is not open (the frame was not sent). */
  send(frame: ClientFrame): boolean;
  /** Ends the transport without reporting {@link TransportSink.end}. Idempotent. */
  close(): void;
}

/** The subset of the browser `WebSocket` the SDK uses (the `ws` package's class fits too). */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code?: number; reason?: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: the browser's, Node 22's global, or `ws`'s `WebSocket` on Node 20. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

const OPEN = 1;

/** Frames over one WebSocket, JSON text messages under the subprotocol `switchboard.v1.json`. */
export class WebSocketTransport implements Transport {
  readonly kind = "websocket";
  private socket: WebSocketLike | undefined;
  private opened = false;
  private done = false;

  constructor(
    private readonly url: string,
    private readonly WebSocketImpl: WebSocketConstructor,
    private readonly sink: TransportSink,
  ) {}

  open(hello: ClientFrame): void {
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketImpl(this.url, [JSON_SUBPROTOCOL]);
    } catch (e) {
      queueMicrotask(() => this.finish(`WebSocket could not be created: ${String(e)}`));
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.done) {
        return;
      }
      this.opened = true;
      this.send(hello);
    };
    socket.onmessage = (event) => {
      if (this.done || typeof event.data !== "string") {
        return;
      }
      let frame: ServerFrame;
      try {
        frame = JSON.parse(event.data) as ServerFrame;
      } catch {
        this.finish("the node sent a frame that is not JSON");
        return;
      }
      this.sink.frame(frame);
    };
    socket.onclose = (event) => {
      this.finish(`WebSocket closed (${event.code ?? "?"}${event.reason ? " " + event.reason : ""})`);
    };
    socket.onerror = () => {
      // A close event follows; nothing else to learn here (browsers hide the cause).
    };
  }

  send(frame: ClientFrame): boolean {
    if (this.done || !this.socket || this.socket.readyState !== OPEN) {
      return false;
    }
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  close(): void {
    if (this.done) {
      return;
    }
    this.done = true;
    this.detach();
  }

  private finish(reason: string): void {
    if (this.done) {
      return;
    }
    this.done = true;
    this.detach();
    this.sink.end({ opened: this.opened, reason });
  }

  private detach(): void {
    const socket = this.socket;
    if (!socket) {
      return;
    }
    socket.onopen = socket.onmessage = socket.onclose = null;
    socket.onerror = () => {};
    try {
      socket.close(1000);
    } catch {
      // closing a socket that never opened may throw in some implementations
    }
  }
}

/**
 * Whether a WebSocket to `url` opens within `timeoutMs` (it is closed at once, before any frame).
 * Used to move back from long-poll to WebSocket when the WebSocket works again.
 */
export function probeWebSocket(
  url: string,
  WebSocketImpl: WebSocketConstructor,
  timeoutMs: number,
): Promise<boolean> {
  return new Promise((resolve) => {
    let socket: WebSocketLike;
    try {
      socket = new WebSocketImpl(url, [JSON_SUBPROTOCOL]);
    } catch {
      resolve(false);
      return;
    }
    const settle = (ok: boolean) => {
      clearTimeout(timer);
      socket.onopen = socket.onclose = socket.onmessage = null;
      socket.onerror = () => {};
      try {
        socket.close(1000);
      } catch {
        // never opened
      }
      resolve(ok);
    };
    const timer = setTimeout(() => settle(false), timeoutMs);
    socket.onopen = () => settle(true);
    socket.onclose = () => settle(false);
    socket.onerror = () => {};
  });
}
