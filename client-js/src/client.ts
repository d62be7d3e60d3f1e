import { AckBatcher, type AckOptions } from "./acks.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { toBase64, type Body } from "./bytes.js";
import { systemClock, type Clock } from "./clock.js";
import { Cursors } from "./cursors.js";
import { SwitchboardError } from "./errors.js";
import { closeAction, CloseCode, errorName, num, type ClientFrame, type ServerFrame } from "./frames.js";
import { LongPollTransport, type FetchLike } from "./longpoll.js";
import {
  incomingOf,
  matchPath,
  messageOf,
  replyOf,
  type IncomingRequest,
  type Message,
  type RecoveryInfo,
  type Reply,
  type ReplyInit,
} from "./messages.js";
import { PendingFrames } from "./pending.js";
import { TransportPolicy } from "./policy.js";
import { loadSession, saveSession, type StorageLike } from "./storage.js";
import {
  probeWebSocket,
  WebSocketTransport,
  type Transport,
  type TransportEnd,
  type TransportKind,
  type TransportSink,
  type WebSocketConstructor,
} from "./transport.js";

/** Where the connection stands. */
export type ConnectionState = "idle" | "connecting" | "connected" | "lost" | "closed";

/**
 * A change of the connection's state:
 * - `connecting`: an attempt starts (`attempt` counts attempts since the last success);
 * - `connected`: a new session is attached (after a first connect, or when the old session was
 *   gone); `resumed`: the previous session continues, nothing missed;
 * - `lost`: the connection went away or an attempt failed; the next attempt is in `retryInMs`;
 * - `closed`: for good (the application closed it, or the node said not to come back).
 */
export type StateEvent =
  | { state: "connecting"; transport: TransportKind; attempt: number }
  | {
      state: "connected" | "resumed";
      transport: TransportKind;
      sessionId: string;
      userId: string;
      node: string;
    }
  | { state: "lost"; transport: TransportKind; reason: string; code?: number; retryInMs: number }
  | { state: "closed"; code: number; reason: string };

/** A token, or a function that fetches a fresh one (called before every connection attempt). */
export type TokenSource = string | (() => string | Promise<string>);

/** Options of {@link SwitchboardClient}. Everything has a default. */
export interface ClientOptions {
  /**
   * Base HTTP(S) URL of a node (or of the load balancer in front of the nodes), e.g.
   * `https://rt.example.com`. Default in browsers: the page's origin.
   */
  url?: string;
  /** The JWT, or a function that fetches one; sent in `Connect`/`Resume` and `Refresh`. */
  token?: TokenSource;
  /**
   * The WebSocket implementation: default `globalThis.WebSocket` (browsers, Node 22). On Node 20,
   * pass the `ws` package's `WebSocket`. Without any, only long-poll is used.
   */
  WebSocket?: WebSocketConstructor;
  /** The `fetch` used for long-poll. Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Transports allowed, in order of preference. Default `["websocket", "longpoll"]`. */
  transports?: TransportKind[];
  /** Path of the WebSocket endpoint. Default `/ws`. */
  webSocketPath?: string;
  /** Path of the long-poll endpoints. Default `/lp`. */
  longPollPath?: string;
  /** Failed WebSocket attempts in a row before falling back to long-poll. Default 2. */
  fallbackAfterFailures?: number;
  /** While on long-poll, how often to check whether a WebSocket opens again (ms). Default 60 000. */
  webSocketRetryMs?: number;
  /** How long the node may hold a long-poll (ms). Default 25 000. */
  longPollWaitMs?: number;
  /** Reconnection delays. Default 0.5 s doubling up to 30 s, half of each delay random. */
  backoff?: BackoffOptions;
  /** An attempt that brings no `Connected` within this time fails (ms). Default 10 000. */
  connectTimeoutMs?: number;
  /** Timeout of `join`, `leave` and `publish`, reconnections included (ms). Default 10 000. */
  operationTimeoutMs?: number;
  /** Default timeout of requests to backends (ms). Default 10 000. */
  requestTimeoutMs?: number;
  /** Ack batching. Default every 100 messages or 1 s. */
  ack?: AckOptions;
  /**
   * Keeps the session id, resume token and cursors here (e.g. `sessionStorage`), so that a
   * reloaded page resumes its session. Default: memory only.
   */
  storage?: StorageLike;
  /** Key under which {@link ClientOptions.storage} keeps the session. Default `"switchboard.session"`. */
  storageKey?: string;
  /** Free-form client description sent in `Connect` (logs, connect hooks). */
  clientName?: string;
  /** In browsers: drop the connection on the `offline` event, reconnect at once on `online`. Default true. */
  watchNetwork?: boolean;
  /** Time and timers (tests). */
  clock?: Clock;
  /** Makes transports (tests). */
  transportFactory?: (kind: TransportKind, sink: TransportSink) => Transport;
}

/** Options of one request to a backend. */
export interface RequestOptions {
  headers?: Record<string, string>;
  /** How long to wait for the reply (ms); the node answers `TIMEOUT` after it. */
  timeoutMs?: number;
}

type Handler<T> = (value: T) => void;
type RequestHandler = (request: IncomingRequest) => ReplyInit | Promise<ReplyInit>;

const SDK_NAME = "switchboard-js/0.1.0";
/** A request's local timer runs this much longer than the timeout the node applies. */
const REQUEST_GRACE_MS = 2000;

/**
 * A Switchboard client: one session over WebSocket (or long-poll when WebSocket fails), resumed
 * after every interruption with no gap and no duplicate.
 *
 * ```ts
 * const sb = new SwitchboardClient({ url: "https://rt.example.com", token: fetchToken });
 * sb.on("votes:room1", (m) => draw(m.json()));
 * await sb.connect();
 * await sb.join("votes:room1", { since: 0 });      // the history so far, then live
 * await sb.post("/votes/room1", "yes");
 * ```
 *
 * Every message of a stream reaches the application exactly once and in offset order; a lost
 * connection is resumed with backoff and the cursors, on any node. Operations called while not
 * connected wait for the connection (within their timeouts).
 */
export class SwitchboardClient {
  private readonly clock: Clock;
  private readonly policy: TransportPolicy;
  private readonly backoff: Backoff;
  private readonly cursors: Cursors;
  private readonly pending: PendingFrames;
  private readonly acks: AckBatcher;
  private readonly baseUrl: string;
  private readonly wsImpl: WebSocketConstructor | undefined;
  private readonly fetchImpl: FetchLike | undefined;
  private readonly options: ClientOptions;
  private readonly storageKey: string;

  private readonly handlers = new Map<string, Set<Handler<Message>>>();
  private readonly stateListeners = new Set<Handler<StateEvent>>();
  private readonly errorListeners = new Set<Handler<SwitchboardError>>();
  private readonly recoveryListeners = new Set<Handler<RecoveryInfo>>();
  private readonly requestHandlers: { method: string; path: string; handler: RequestHandler }[] = [];

  /** Groups the application wants to be a member of (rejoined when a session is new). */
  private readonly groups = new Set<string>();
  private readonly joining = new Map<string, Promise<{ group: string; head: number }>>();

  private phase: ConnectionState = "idle";
  private session: { sessionId: string; resumeToken: string } | undefined;
  private userIdValue = "";
  private transportValue: Transport | undefined;
  private transportKind: TransportKind;
  private live = false;
  private helloId = 0;
  private closeFrame: { code: number; reason: string } | undefined;
  private nextFrameId = 1;
  private attempts = 0;
  private lastHeard = 0;
  private pingIntervalMs = 10_000;
  private pingSentAt = 0;
  private timers: Record<"reconnect" | "connect" | "heartbeat" | "probe", unknown> = {
    reconnect: undefined,
    connect: undefined,
    heartbeat: undefined,
    probe: undefined,
  };
  private connectWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly unwatch: () => void;

  constructor(options: ClientOptions = {}) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.baseUrl = (options.url ?? defaultOrigin()).replace(/\/+$/, "");
    this.wsImpl =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.fetchImpl = options.fetch ?? (globalThis.fetch ? globalThis.fetch.bind(globalThis) : undefined);
    const wanted = options.transports ?? ["websocket", "longpoll"];
    const usable = options.transportFactory
      ? wanted
      : wanted.filter((k) => (k === "websocket" ? !!this.wsImpl : !!this.fetchImpl));
    if (usable.length === 0) {
      throw new SwitchboardError(
        "INVALID_ARGUMENT",
        "no usable transport: pass a WebSocket implementation (e.g. the ws package on Node 20) or fetch",
      );
    }
    this.policy = new TransportPolicy({
      transports: usable,
      failuresBeforeSwitch: options.fallbackAfterFailures,
    });
    this.transportKind = this.policy.current();
    this.backoff = new Backoff(options.backoff);
    this.storageKey = options.storageKey ?? "switchboard.session";
    const saved = loadSession(options.storage, this.storageKey);
    this.cursors = new Cursors(saved?.cursors);
    this.session = saved ? { sessionId: saved.sessionId, resumeToken: saved.resumeToken } : undefined;
    this.pending = new PendingFrames(this.clock);
    this.acks = new AckBatcher(
      this.cursors,
      (cursors) => {
        const sent = this.live && !!this.transportValue?.send({ ack: { cursors } });
        this.persist();
        return sent;
      },
      this.clock,
      options.ack,
    );
    this.unwatch = options.watchNetwork === false ? () => {} : this.watchNetwork();
  }

  // ---- connection

  /** The connection's state. */
  get state(): ConnectionState {
    return this.phase;
  }

  /** The transport in use (or of the next attempt). */
  get transport(): TransportKind {
    return this.transportKind;
  }

  /** The session id, once connected. */
  get sessionId(): string | undefined {
    return this.session?.sessionId;
  }

  /** The user the node authenticated, once connected. */
  get userId(): string {
    return this.userIdValue;
  }

  /**
   * Starts connecting (once; later calls only wait). Resolves when connected, rejects when the
   * client is closed for good first. Attempts continue with backoff until then.
   */
  connect(): Promise<void> {
    if (this.phase === "connected") {
      return Promise.resolve();
    }
    if (this.phase === "closed") {
      return Promise.reject(new SwitchboardError("CLOSED", "the client is closed"));
    }
    const waiter = new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    if (this.phase === "idle") {
      void this.attempt();
    }
    return waiter;
  }

  /**
   * Ends the session (a `Close` frame: the node forgets it, no resume) and stops. Every operation
   * still waiting is rejected with `CLOSED`.
   */
  close(reason = "closed by the application"): void {
    if (this.phase === "closed") {
      return;
    }
    if (this.live) {
      this.transportValue?.send({ close: { code: CloseCode.NORMAL, reason } });
    }
    this.finish(CloseCode.NORMAL, reason);
  }

  /** Listens to connection state changes; returns a function that stops listening. */
  onState(listener: Handler<StateEvent>): () => void {
    return subscribe(this.stateListeners, listener);
  }

  /** Listens to errors no operation is waiting for (refused acks, failed handlers, refreshes). */
  onError(listener: Handler<SwitchboardError>): () => void {
    return subscribe(this.errorListeners, listener);
  }

  /** Listens to the outcome of stream replays; `recovered: false` reports history that is gone. */
  onRecovery(listener: Handler<RecoveryInfo>): () => void {
    return subscribe(this.recoveryListeners, listener);
  }

  // ---- streams

  /**
   * Calls `handler` with every message of `stream` (a group, or `"@"` for direct messages),
   * exactly once each and in offset order. Returns a function that removes the handler.
   */
  on(stream: string, handler: (message: Message) => void): () => void {
    let set = this.handlers.get(stream);
    if (!set) {
      set = new Set();
      this.handlers.set(stream, set);
    }
    return subscribe(set, handler);
  }

  /** The highest offset of `stream` handed to the application, if any. */
  cursor(stream: string): number | undefined {
    return this.cursors.get(stream);
  }

  /**
   * Joins `group`. With `since` (e.g. 0), the retained messages after that offset are delivered
   * first (the group's history), then live ones; without, live from the group's head. When this
   * client already has messages of the group, delivery continues after the last one it has. The
   * membership survives reconnections and resumes.
   */
  join(group: string, options: { since?: number; timeoutMs?: number } = {}): Promise<{ group: string; head: number }> {
    this.groups.add(group);
    const waiting = this.joining.get(group);
    if (waiting) {
      return waiting;
    }
    return this.sendJoin(group, options.since, options.timeoutMs);
  }

  /** Leaves `group`: no further messages of it. */
  async leave(group: string, options: { timeoutMs?: number } = {}): Promise<void> {
    this.groups.delete(group);
    await this.operation(
      { leave: { group } },
      { timeoutMs: options.timeoutMs ?? this.operationTimeout(), retryable: true, what: `leave ${group}` },
      () => undefined,
    );
    if (!this.groups.has(group)) {
      this.cursors.delete(group);
    }
  }

  /**
   * Publishes to `group` (if the node and the token allow it). Resolves once journaled, with the
   * offset. A publish interrupted by a lost connection is resent after the resume with the same
   * idempotency key (generated when not given), so it is never published twice.
   */
  publish(
    group: string,
    payload: Body,
    options: { idempotencyKey?: string; timeoutMs?: number } = {},
  ): Promise<{ group: string; offset: number }> {
    const idempotencyKey = options.idempotencyKey ?? randomKey();
    return this.operation(
      { publish: { group, payload: toBase64(payload), idempotencyKey } },
      { timeoutMs: options.timeoutMs ?? this.operationTimeout(), retryable: true, what: `publish to ${group}` },
      (answer) => ({ group, offset: num(answer.published?.offset) }),
    );
  }

  // ---- requests to backends

  /**
   * A REST-like request to the backend worker serving `method path`. Resolves with the reply
   * whatever its status (see {@link Reply.ok}); rejects with a {@link SwitchboardError}: `NO_ROUTE`,
   * `TIMEOUT` (also when nothing came back in time), `BACKEND_GONE`, `DISCONNECTED` (the
   * connection went away first: the outcome is unknown), `CLOSED`, … Never hangs.
   */
  request(method: string, path: string, body?: Body, options: RequestOptions = {}): Promise<Reply> {
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs ?? 10_000;
    return this.operation(
      {
        request: {
          method,
          path,
          headers: options.headers,
          body: body === undefined ? undefined : toBase64(body),
          timeoutMs,
        },
      },
      { timeoutMs: timeoutMs + REQUEST_GRACE_MS, retryable: false, what: `${method} ${path}` },
      (answer) => {
        if (!answer.reply) {
          throw new SwitchboardError("INTERNAL", `unexpected answer to ${method} ${path}`);
        }
        return replyOf(answer.reply);
      },
    );
  }

  /** `GET path`; see {@link SwitchboardClient.request}. */
  get(path: string, options?: RequestOptions): Promise<Reply> {
    return this.request("GET", path, undefined, options);
  }

  /** `POST path` with `body`; see {@link SwitchboardClient.request}. */
  post(path: string, body?: Body, options?: RequestOptions): Promise<Reply> {
    return this.request("POST", path, body, options);
  }

  /** `PUT path` with `body`; see {@link SwitchboardClient.request}. */
  put(path: string, body?: Body, options?: RequestOptions): Promise<Reply> {
    return this.request("PUT", path, body, options);
  }

  /** `DELETE path`; see {@link SwitchboardClient.request}. */
  delete(path: string, options?: RequestOptions): Promise<Reply> {
    return this.request("DELETE", path, undefined, options);
  }

  /**
   * A one-way message to the workers serving `path` (no reply). Returns false when not connected
   * (nothing was sent). A `NO_ROUTE` refusal arrives at {@link SwitchboardClient.onError}.
   */
  send(path: string, body?: Body, headers?: Record<string, string>): boolean {
    if (!this.live || !this.transportValue) {
      return false;
    }
    return this.transportValue.send({
      message: { path, headers, body: body === undefined ? undefined : toBase64(body) },
    });
  }

  /**
   * Answers requests the cluster sends this client (a backend's `Ask`) for `method` (or `"*"`) and
   * a path template of literal and `:name` segments (or `"*"`). The first matching handler
   * answers; none: 404; a handler that throws: 500. Returns a function that removes the handler.
   */
  onRequest(method: string, path: string, handler: RequestHandler): () => void {
    const entry = { method: method.toUpperCase(), path, handler };
    this.requestHandlers.push(entry);
    return () => {
      const i = this.requestHandlers.indexOf(entry);
      if (i >= 0) {
        this.requestHandlers.splice(i, 1);
      }
    };
  }

  // ---- attempts and transports

  private async attempt(): Promise<void> {
    if (this.phase === "closed" || this.phase === "connecting" || this.phase === "connected") {
      return;
    }
    this.cancelTimer("reconnect");
    const kind = this.policy.current();
    this.transportKind = kind;
    this.attempts++;
    this.setPhase("connecting", { state: "connecting", transport: kind, attempt: this.attempts });
    let token: string | undefined;
    try {
      token = await this.token();
    } catch (e) {
      this.retryLater(kind, `the token could not be fetched: ${String(e)}`, undefined);
      return;
    }
    if ((this.phase as ConnectionState) !== "connecting" || this.transportValue) {
      return; // closed, or superseded while the token was fetched
    }
    const id = this.frameId();
    this.helloId = id;
    this.closeFrame = undefined;
    const hello: ClientFrame = this.session
      ? {
          id: String(id),
          resume: {
            sessionId: this.session.sessionId,
            resumeToken: this.session.resumeToken,
            cursors: this.cursors.toWire(),
            token,
          },
        }
      : { id: String(id), connect: { token, client: this.options.clientName ?? SDK_NAME } };
    let transport: Transport;
    const sink: TransportSink = {
      frame: (frame) => {
        if (transport === this.transportValue) {
          this.onFrame(transport, frame);
        }
      },
      end: (end) => {
        if (transport === this.transportValue) {
          this.onEnd(transport, end);
        }
      },
    };
    transport = this.makeTransport(kind, sink);
    this.transportValue = transport;
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    this.timers.connect = this.clock.set(() => {
      if (transport === this.transportValue && !this.live) {
        this.drop(transport, `no Connected within ${timeoutMs} ms`);
      }
    }, timeoutMs);
    transport.open(hello, token);
  }

  private makeTransport(kind: TransportKind, sink: TransportSink): Transport {
    if (this.options.transportFactory) {
      return this.options.transportFactory(kind, sink);
    }
    if (kind === "websocket") {
      return new WebSocketTransport(this.webSocketUrl(), this.wsImpl!, sink);
    }
    return new LongPollTransport(
      {
        baseUrl: this.baseUrl + (this.options.longPollPath ?? "/lp"),
        fetch: this.fetchImpl!,
        cursors: () => this.cursors.toWire(),
        waitMs: this.options.longPollWaitMs,
      },
      sink,
    );
  }

  private webSocketUrl(): string {
    return this.baseUrl.replace(/^http/, "ws") + (this.options.webSocketPath ?? "/ws");
  }

  /** Closes `transport` and handles it as if it had ended by itself. */
  private drop(transport: Transport, reason: string): void {
    transport.close();
    this.onEnd(transport, { opened: true, reason });
  }

  private onEnd(transport: Transport, end: TransportEnd): void {
    if (transport !== this.transportValue) {
      return;
    }
    this.transportValue = undefined;
    const wasLive = this.live;
    this.live = false;
    this.cancelTimer("connect");
    this.cancelTimer("heartbeat");
    this.cancelTimer("probe");
    this.acks.cancel();
    this.persist();
    const close = this.closeFrame;
    if (close && closeAction(close.code) === "stop") {
      this.finish(close.code, close.reason || end.reason);
      return;
    }
    if (end.status === 401 || end.status === 403) {
      this.finish(end.status === 401 ? CloseCode.UNAUTHORIZED : CloseCode.FORBIDDEN, end.reason);
      return;
    }
    this.pending.connectionLost();
    if (!wasLive && !this.offline()) {
      this.policy.failed(transport.kind);
    }
    this.retryLater(transport.kind, close ? `closed by the node: ${close.reason}` : end.reason, close?.code);
  }

  private retryLater(kind: TransportKind, reason: string, code: number | undefined, delayMs?: number): void {
    if (this.phase === "closed") {
      return;
    }
    const delay = delayMs ?? this.backoff.next();
    this.setPhase("lost", { state: "lost", transport: kind, reason, code, retryInMs: Math.round(delay) });
    this.cancelTimer("reconnect");
    this.timers.reconnect = this.clock.set(() => {
      this.timers.reconnect = undefined;
      void this.attempt();
    }, delay);
  }

  private finish(code: number, reason: string): void {
    if (this.phase === "closed") {
      return;
    }
    const transport = this.transportValue;
    this.transportValue = undefined;
    this.live = false;
    transport?.close();
    for (const name of ["reconnect", "connect", "heartbeat", "probe"] as const) {
      this.cancelTimer(name);
    }
    this.acks.cancel();
    this.unwatch();
    if (code === CloseCode.SESSION_REPLACED) {
      this.session = undefined; // another connection holds it now; its storage stays
    } else {
      this.session = undefined;
      saveSession(this.options.storage, this.storageKey, undefined);
    }
    const error = new SwitchboardError("CLOSED", `${reason} (${code})`);
    this.pending.failAll(error);
    this.setPhase("closed", { state: "closed", code, reason });
    for (const waiter of this.connectWaiters.splice(0)) {
      waiter.reject(error);
    }
  }

  // ---- frames

  private onFrame(transport: Transport, frame: ServerFrame): void {
    this.lastHeard = this.clock.now();
    const id = num(frame.id);
    if (frame.delivery) {
      this.onDelivery(frame.delivery);
    } else if (frame.connected) {
      if (id === this.helloId && !this.live) {
        this.onConnected(transport, frame.connected);
      }
    } else if (frame.ping) {
      transport.send(frame.id ? { id: frame.id, pong: {} } : { pong: {} });
    } else if (frame.recovery) {
      const r = frame.recovery;
      const info: RecoveryInfo = {
        stream: r.stream ?? "",
        recovered: !!r.recovered,
        firstOffset: num(r.firstOffset),
        head: num(r.head),
      };
      // The head (0 when the JSON leaves it out) is at least what the replay delivered; below the
      // cursor only when the stream no longer has the cursor's offsets (it was reset).
      this.cursors.clampTo(info.stream, info.head);
      emit(this.recoveryListeners, info, this.errorListeners);
    } else if (frame.request && !id) {
      this.onIncomingRequest(transport, frame.request);
    } else if (frame.close) {
      this.closeFrame = { code: frame.close.code ?? 0, reason: frame.close.reason ?? "" };
      this.drop(transport, `closed by the node (${this.closeFrame.code})`);
    } else if (frame.tokenExpiring) {
      void this.refresh();
    } else if (frame.error && id === this.helloId && !this.live) {
      this.onHelloRefused(transport, errorName(frame.error.code), frame.error.message ?? "");
    } else if (id && this.pending.answer(frame)) {
      return;
    } else if (frame.joined && !id) {
      const group = frame.joined.group ?? "";
      this.groups.add(group); // a backend joined this session
      this.cursors.initialize(group, num(frame.joined.head));
    } else if (frame.left && !id) {
      this.groups.delete(frame.left.group ?? "");
    } else if (frame.error) {
      this.report(new SwitchboardError(errorName(frame.error.code), frame.error.message ?? ""));
    }
  }

  private onConnected(transport: Transport, connected: NonNullable<ServerFrame["connected"]>): void {
    this.cancelTimer("connect");
    this.live = true;
    const resumed = !!connected.resumed;
    this.session = { sessionId: connected.sessionId ?? "", resumeToken: connected.resumeToken ?? "" };
    this.userIdValue = connected.userId ?? "";
    this.pingIntervalMs = connected.pingIntervalMs || 10_000;
    this.policy.connected(transport.kind);
    this.backoff.reset();
    this.attempts = 0;
    this.persist();
    const member = new Set(resumed ? connected.groups ?? [] : []);
    for (const group of member) {
      this.groups.add(group); // memberships a backend made while away are kept
    }
    this.setPhase("connected", {
      state: resumed ? "resumed" : "connected",
      transport: transport.kind,
      sessionId: this.session.sessionId,
      userId: this.userIdValue,
      node: connected.node ?? "",
    });
    for (const waiter of this.connectWaiters.splice(0)) {
      waiter.resolve();
    }
    if (!this.live || transport !== this.transportValue) {
      return; // a listener closed the client
    }
    for (const group of this.groups) {
      if (!member.has(group) && !this.joining.has(group)) {
        this.sendJoin(group, undefined, undefined).catch((e) => this.report(asError(e)));
      }
    }
    for (const frame of this.pending.unsent()) {
      if (transport.send(frame)) {
        this.pending.markSent(num(frame.id));
      }
    }
    if (transport.kind === "websocket") {
      this.scheduleHeartbeat(transport);
    } else if (this.policy.shouldProbe()) {
      this.scheduleProbe(transport);
    }
  }

  private onHelloRefused(transport: Transport, code: string, message: string): void {
    if (code === "SESSION_NOT_FOUND") {
      // The session is gone (expired or ended): start a new one at once, joining the groups again
      // from the cursors (their history is still in the groups' logs). The inbox is lost.
      this.session = undefined;
      this.cursors.delete("@");
      transport.close();
      this.transportValue = undefined;
      this.cancelTimer("connect");
      this.retryLater(transport.kind, "the session no longer exists; starting a new one", undefined, 0);
      return;
    }
    if (code === "UNAUTHORIZED" || code === "FORBIDDEN") {
      this.finish(code === "UNAUTHORIZED" ? CloseCode.UNAUTHORIZED : CloseCode.FORBIDDEN, message);
      return;
    }
    this.report(new SwitchboardError(code, message));
    this.drop(transport, `${code}: ${message}`);
  }

  private onDelivery(delivery: NonNullable<ServerFrame["delivery"]>): void {
    const stream = delivery.stream ?? "";
    const offset = num(delivery.offset);
    if (this.cursors.accept(stream, offset) === "duplicate") {
      return;
    }
    const handlers = this.handlers.get(stream);
    if (handlers && handlers.size > 0) {
      emit(handlers, messageOf(delivery), this.errorListeners);
    }
    this.acks.delivered();
  }

  private onIncomingRequest(transport: Transport, request: NonNullable<ServerFrame["request"]>): void {
    const method = (request.method ?? "").toUpperCase();
    const path = request.path ?? "";
    let found: { handler: RequestHandler; params: Record<string, string> } | undefined;
    for (const entry of this.requestHandlers) {
      const params = entry.method === "*" || entry.method === method ? matchPath(entry.path, path) : undefined;
      if (params) {
        found = { handler: entry.handler, params };
        break;
      }
    }
    const answer = (init: ReplyInit) => {
      if (transport !== this.transportValue || !this.live) {
        return; // the asker gets UNAVAILABLE from the node
      }
      transport.send({
        id: String(this.frameId()),
        reply: {
          requestId: request.requestId ?? 0,
          status: init.status ?? 200,
          headers: init.headers,
          body: init.body === undefined ? undefined : toBase64(init.body),
        },
      });
    };
    if (!found) {
      answer({ status: 404, body: `no handler for ${method} ${path}` });
      return;
    }
    const { handler, params } = found;
    Promise.resolve()
      .then(() => handler(incomingOf(request, params)))
      .then(answer, (e) => {
        this.report(new SwitchboardError("INTERNAL", `request handler for ${method} ${path} failed: ${String(e)}`));
        answer({ status: 500, body: "the handler failed" });
      });
  }

  // ---- operations

  private sendJoin(group: string, since: number | undefined, timeoutMs: number | undefined) {
    const cursor = this.cursors.get(group);
    const sinceOffset = cursor ?? since;
    if (sinceOffset !== undefined) {
      this.cursors.initialize(group, sinceOffset);
    }
    const promise = this.operation(
      { join: { group, sinceOffset: sinceOffset === undefined ? undefined : String(sinceOffset) } },
      { timeoutMs: timeoutMs ?? this.operationTimeout(), retryable: true, what: `join ${group}` },
      (answer) => {
        const head = num(answer.joined?.head);
        this.cursors.initialize(group, head);
        return { group, head };
      },
    );
    this.joining.set(group, promise);
    const done = () => {
      if (this.joining.get(group) === promise) {
        this.joining.delete(group);
      }
    };
    promise.then(done, done);
    return promise;
  }

  /** Sends `body` as a frame with a fresh id now or once connected, and waits for its answer. */
  private operation<T>(
    body: ClientFrame,
    options: { timeoutMs: number; retryable: boolean; what: string },
    settle: (answer: ServerFrame) => T,
  ): Promise<T> {
    if (this.phase === "closed") {
      return Promise.reject(new SwitchboardError("CLOSED", "the client is closed"));
    }
    const frame: ClientFrame = { id: String(this.frameId()), ...body };
    const promise = this.pending.add(frame, options, (answer) => {
      if (answer.error) {
        throw new SwitchboardError(errorName(answer.error.code), answer.error.message ?? "");
      }
      return settle(answer);
    });
    if (this.live && this.transportValue?.send(frame)) {
      this.pending.markSent(num(frame.id));
    }
    return promise;
  }

  private async refresh(): Promise<void> {
    if (typeof this.options.token !== "function") {
      this.report(new SwitchboardError("UNAUTHORIZED", "the token expires soon and there is no token function to refresh it"));
      return;
    }
    try {
      const token = await this.token();
      await this.operation(
        { refresh: { token: token ?? "" } },
        { timeoutMs: this.operationTimeout(), retryable: false, what: "refresh" },
        () => undefined,
      );
    } catch (e) {
      this.report(asError(e));
    }
  }

  // ---- heartbeat, probes, network

  private scheduleHeartbeat(transport: Transport): void {
    this.pingSentAt = 0;
    const check = () => {
      this.timers.heartbeat = undefined;
      if (transport !== this.transportValue || !this.live) {
        return;
      }
      const now = this.clock.now();
      if (this.pingSentAt && this.lastHeard < this.pingSentAt && now - this.pingSentAt >= this.pingIntervalMs) {
        this.drop(transport, "the node did not answer a ping");
        return;
      }
      if (now - this.lastHeard >= 2 * this.pingIntervalMs && !(this.pingSentAt > this.lastHeard)) {
        this.pingSentAt = now;
        this.operation({ ping: {} }, { timeoutMs: 2 * this.pingIntervalMs, retryable: false, what: "ping" }, () => undefined).catch(
          () => {},
        );
      }
      this.timers.heartbeat = this.clock.set(check, this.pingIntervalMs / 2);
    };
    this.timers.heartbeat = this.clock.set(check, this.pingIntervalMs / 2);
  }

  private scheduleProbe(transport: Transport): void {
    const interval = this.options.webSocketRetryMs ?? 60_000;
    this.timers.probe = this.clock.set(async () => {
      this.timers.probe = undefined;
      if (transport !== this.transportValue || !this.live) {
        return;
      }
      const works = this.wsImpl
        ? await probeWebSocket(this.webSocketUrl(), this.wsImpl, this.options.connectTimeoutMs ?? 10_000)
        : false;
      if (transport !== this.transportValue || !this.live) {
        return;
      }
      if (works) {
        // Move over: stop long-polling and resume on a WebSocket (nothing is lost in between).
        this.policy.websocketWorks();
        transport.close();
        this.transportValue = undefined;
        this.live = false;
        this.pending.connectionLost();
        this.retryLater(transport.kind, "moving back to WebSocket", undefined, 0);
      } else {
        this.scheduleProbe(transport);
      }
    }, interval);
  }

  private offline(): boolean {
    const nav = (globalThis as { navigator?: { onLine?: boolean } }).navigator;
    return this.options.watchNetwork !== false && nav?.onLine === false;
  }

  private watchNetwork(): () => void {
    const target = globalThis as unknown as {
      addEventListener?: (type: string, fn: () => void) => void;
      removeEventListener?: (type: string, fn: () => void) => void;
      document?: unknown;
    };
    if (!target.document || !target.addEventListener || !target.removeEventListener) {
      return () => {};
    }
    const offline = () => {
      if (this.transportValue) {
        this.drop(this.transportValue, "the browser went offline");
      }
    };
    const online = () => {
      if (this.phase === "lost") {
        this.backoff.reset();
        void this.attempt();
      }
    };
    const save = () => this.persist();
    target.addEventListener("offline", offline);
    target.addEventListener("online", online);
    target.addEventListener("pagehide", save);
    return () => {
      target.removeEventListener!("offline", offline);
      target.removeEventListener!("online", online);
      target.removeEventListener!("pagehide", save);
    };
  }

  // ---- helpers

  private async token(): Promise<string | undefined> {
    const source = this.options.token;
    if (source === undefined) {
      return undefined;
    }
    return typeof source === "function" ? await source() : source;
  }

  private persist(): void {
    if (!this.session || this.phase === "closed") {
      return;
    }
    saveSession(this.options.storage, this.storageKey, { ...this.session, cursors: this.cursors.entries() });
  }

  private setPhase(phase: ConnectionState, event: StateEvent): void {
    this.phase = phase;
    emit(this.stateListeners, event, this.errorListeners);
  }

  private report(error: SwitchboardError): void {
    for (const listener of [...this.errorListeners]) {
      try {
        listener(error);
      } catch {
        // a failing error listener has nowhere to report to
      }
    }
  }

  private frameId(): number {
    return this.nextFrameId++;
  }

  private operationTimeout(): number {
    return this.options.operationTimeoutMs ?? 10_000;
  }

  private cancelTimer(name: "reconnect" | "connect" | "heartbeat" | "probe"): void {
    if (this.timers[name] !== undefined) {
      this.clock.clear(this.timers[name]);
      this.timers[name] = undefined;
    }
  }
}

function subscribe<T>(set: Set<T>, item: T): () => void {
  set.add(item);
  return () => {
    set.delete(item);
  };
}

/** Calls every listener; one that throws is reported to `errors` and does not stop the others. */
function emit<T>(listeners: Set<Handler<T>>, value: T, errors: Set<Handler<SwitchboardError>>): void {
  for (const listener of [...listeners]) {
    try {
      listener(value);
    } catch (e) {
      const error = new SwitchboardError("INTERNAL", `a listener failed: ${String(e)}`);
      for (const report of [...errors]) {
        try {
          report(error);
        } catch {
          // ignored
        }
      }
    }
  }
}

function asError(e: unknown): SwitchboardError {
  return e instanceof SwitchboardError ? e : new SwitchboardError("INTERNAL", String(e));
}

function randomKey(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) {
    return c.randomUUID();
  }
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}

function defaultOrigin(): string {
  const location = (globalThis as { location?: { origin?: string } }).location;
  if (location?.origin && location.origin !== "null") {
    return location.origin;
  }
  throw new SwitchboardError("INVALID_ARGUMENT", "options.url is needed outside a browser page");
}
