import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ClientFrame, ServerFrame } from "../../src/frames.js";

/**
 * A small in-memory server that follows the long-poll HTTP contract v1 (LONGPOLL-CONTRACT.md):
 * `POST /lp/open`, `/lp/poll`, `/lp/send` with canonical-JSON bodies. Enough of a node for the
 * SDK's long-poll transport: sessions, groups with gap-free logs, joins with history, publishes,
 * requests to routes the test defines, asks to the client, Close. It never runs WebSocket: an
 * upgrade to `/ws` is refused by destroying the socket, as a proxy that blocks WebSockets would.
 */
export class FakeLongPollServer {
  readonly logs = new Map<string, string[]>();
  readonly sessions = new Map<string, FakeSession>();
  /** Requests received, by call ("open", "poll", "send"). */
  readonly calls: { call: string; body: unknown }[] = [];
  /** How many polls of one session were outstanding at once, at most. */
  maxConcurrentPolls = 0;
  /** A token the open call must carry (Authorization: Bearer); empty: none needed. */
  requiredToken = "";
  /** How long a poll is held when nothing is due (ms). */
  holdMs = 2000;
  /** Answers of routes: `"GET /path"` → reply (or a promise of one). */
  readonly routes = new Map<string, (frame: ClientFrame) => Promise<ServerFrame["reply"]> | ServerFrame["reply"]>();
  /** The next this-many poll requests have their connection destroyed (a network cut). */
  cutPolls = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private seq = 0;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    this.server.on("upgrade", (_req, socket) => socket.destroy());
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const session of this.sessions.values()) {
      session.wake?.();
    }
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Appends to a group's log (as a backend would) and wakes the polls. */
  publish(group: string, text: string): number {
    const log = this.logs.get(group) ?? [];
    this.logs.set(group, log);
    log.push(Buffer.from(text).toString("base64"));
    for (const session of this.sessions.values()) {
      session.wake?.();
    }
    return log.length;
  }

  /** Queues a frame for a session (a server→client Request, TokenExpiring, Close …). */
  push(sessionId: string, frame: ServerFrame): void {
    const session = this.sessions.get(sessionId)!;
    session.outbox.push(frame);
    session.wake?.();
  }

  /** Frames of one kind the client sent through `/lp/send`. */
  sentFrames(kind: keyof ClientFrame): ClientFrame[] {
    return this.calls
      .filter((c) => c.call === "send")
      .flatMap((c) => ((c.body as { frames?: ClientFrame[] }).frames ?? []).filter((f) => f[kind] !== undefined));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const call = (req.url ?? "").replace(/^\/lp\//, "");
    if (req.method !== "POST" || !["open", "poll", "send"].includes(call)) {
      res.writeHead(404).end("not found\n");
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await readBody(req)) as Record<string, unknown>;
    } catch {
      res.writeHead(400, { "content-type": "text/plain" }).end("malformed body\n");
      return;
    }
    this.calls.push({ call, body });
    if (call === "poll" && this.cutPolls > 0) {
      this.cutPolls--;
      req.socket.destroy();
      return;
    }
    let frames: ServerFrame[];
    if (call === "open") {
      if (this.requiredToken && req.headers.authorization !== `Bearer ${this.requiredToken}`) {
        res.writeHead(401, { "content-type": "text/plain" }).end("token required\n");
        return;
      }
      frames = this.open((body.frames as ClientFrame[])[0]);
    } else {
      const session = this.sessions.get(String(body.sessionId));
      if (!session || session.resumeToken !== body.resumeToken) {
        const error: ServerFrame = { error: { code: "SESSION_NOT_FOUND", message: "no such session" } };
        frames = call === "poll" ? [error, { close: { code: 3505, reason: "session not found" } }] : [error];
      } else if (call === "poll") {
        frames = await this.poll(session, body, res);
      } else {
        frames = await this.send(session, (body.frames as ClientFrame[]) ?? []);
      }
    }
    if (!res.destroyed) {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ frames }));
    }
  }

  private open(hello: ClientFrame): ServerFrame[] {
    if (hello.resume) {
      const session = this.sessions.get(hello.resume.sessionId);
      if (!session || session.resumeToken !== hello.resume.resumeToken) {
        return [
          { id: hello.id, error: { code: "SESSION_NOT_FOUND", message: "no such session" } },
          { close: { code: 3505, reason: "session not found" } },
        ];
      }
      return [{ id: hello.id, connected: this.connected(session, true) }];
    }
    const session: FakeSession = {
      id: `s${++this.seq}`,
      resumeToken: `rt${this.seq}-${Math.random().toString(36).slice(2)}`,
      groups: new Map(),
      outbox: [],
      pollSeq: 0,
      polling: 0,
      asks: new Map(),
    };
    this.sessions.set(session.id, session);
    return [{ id: hello.id, connected: this.connected(session, false) }];
  }

  private connected(session: FakeSession, resumed: boolean): ServerFrame["connected"] {
    return {
      sessionId: session.id,
      resumeToken: session.resumeToken,
      resumed,
      userId: "fake-user",
      groups: resumed ? [...session.groups.keys()] : [],
      pingIntervalMs: 10_000,
      node: "fake",
    };
  }

  private async poll(session: FakeSession, body: Record<string, unknown>, res: ServerResponse): Promise<ServerFrame[]> {
    const cursors = new Map<string, number>();
    for (const c of (body.cursors as { stream: string; offset: string }[]) ?? []) {
      cursors.set(c.stream, Number(c.offset));
    }
    const mine = ++session.pollSeq;
    session.wake?.(); // a newer poll ends an older one
    session.polling++;
    this.maxConcurrentPolls = Math.max(this.maxConcurrentPolls, session.polling);
    try {
      const deadline = Date.now() + Math.min(Number(body.waitMs ?? this.holdMs), this.holdMs);
      for (;;) {
        const due = this.due(session, cursors);
        if (due.length > 0 || mine !== session.pollSeq || Date.now() >= deadline || res.destroyed) {
          return mine === session.pollSeq ? due : [];
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
          session.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      session.polling--;
    }
  }

  private due(session: FakeSession, cursors: Map<string, number>): ServerFrame[] {
    const frames: ServerFrame[] = session.outbox.splice(0);
    for (const [group, start] of session.groups) {
      const log = this.logs.get(group) ?? [];
      const after = Math.max(start, cursors.get(group) ?? 0);
      for (let offset = after + 1; offset <= log.length; offset++) {
        frames.push({ delivery: { stream: group, offset: String(offset), payload: log[offset - 1], timestampMs: "1" } });
      }
    }
    return frames;
  }

  private async send(session: FakeSession, frames: ClientFrame[]): Promise<ServerFrame[]> {
    const answers: ServerFrame[] = [];
    for (const frame of frames) {
      if (frame.join) {
        const head = this.logs.get(frame.join.group)?.length ?? 0;
        const since = frame.join.sinceOffset === undefined ? head : Number(frame.join.sinceOffset);
        session.groups.set(frame.join.group, Math.min(since, head));
        answers.push({ id: frame.id, joined: { group: frame.join.group, head: String(head) } });
        session.wake?.();
      } else if (frame.leave) {
        session.groups.delete(frame.leave.group);
        answers.push({ id: frame.id, left: { group: frame.leave.group } });
      } else if (frame.publish) {
        const log = this.logs.get(frame.publish.group) ?? [];
        this.logs.set(frame.publish.group, log);
        log.push(frame.publish.payload ?? "");
        answers.push({ id: frame.id, published: { group: frame.publish.group, offset: String(log.length) } });
        for (const s of this.sessions.values()) {
          s.wake?.();
        }
      } else if (frame.request) {
        const route = this.routes.get(`${frame.request.method} ${frame.request.path}`);
        if (!route) {
          answers.push({ id: frame.id, error: { code: "NO_ROUTE", message: "no backend serves it" } });
        } else {
          answers.push({ id: frame.id, reply: await route(frame) });
        }
      } else if (frame.reply) {
        session.asks.get(String(frame.reply.requestId))?.(frame);
      } else if (frame.ping) {
        answers.push({ id: frame.id, pong: {} });
      } else if (frame.close) {
        this.sessions.delete(session.id);
        answers.push({ close: { code: 1000, reason: "closed by the client" } });
      }
    }
    return answers;
  }

  /** Sends a Request to the session's client and waits for its Reply. */
  ask(sessionId: string, method: string, path: string): Promise<ClientFrame> {
    const session = this.sessions.get(sessionId)!;
    const requestId = String(++this.seq);
    return new Promise((resolve) => {
      session.asks.set(requestId, resolve);
      this.push(sessionId, { request: { method, path, requestId } });
    });
  }
}

interface FakeSession {
  id: string;
  resumeToken: string;
  /** Group → the offset after which this session's deliveries start. */
  groups: Map<string, number>;
  outbox: ServerFrame[];
  pollSeq: number;
  polling: number;
  wake?: () => void;
  asks: Map<string, (reply: ClientFrame) => void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
