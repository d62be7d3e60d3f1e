import type { ClientFrame, FrameBatch, LongPollRequest, ServerFrame, WireCursor } from "./frames.js";
import type { Transport, TransportSink } from "./transport.js";

/** The `fetch` the long-poll transport uses (the global one by default). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{ status: number; text(): Promise<string> }>;

/** Options of {@link LongPollTransport}. */
export interface LongPollOptions {
  /** Base URL of the long-poll endpoints, e.g. `http://127.0.0.1:8080/lp`. */
  baseUrl: string;
  fetch: FetchLike;
  /** The application's cursors at the moment of each poll (a poll's cursors are its acks). */
  cursors: () => WireCursor[];
  /** How long the node may hold a poll (`wait_ms`). Default 25 000. */
  waitMs?: number;
  /** Extra time a poll or send may take beyond what the node may hold it. Default 10 000. */
  slackMs?: number;
}

/**
 * Frames over HTTP long-polling (contract v1): `POST /lp/open` with the hello, then one
 * `POST /lp/poll` outstanding at a time carrying the cursors, and `POST /lp/send` for the client's
 * frames, in order; bodies are `switchboard.v1.json`. Requests to backends go in sends of their own
 * (a send waits for their replies) so that they never hold up later frames. `Ack` frames are not
 * sent: every poll carries the cursors.
 */
export class LongPollTransport implements Transport {
  readonly kind = "longpoll";
  private readonly waitMs: number;
  private readonly slackMs: number;
  private readonly pollAbort = new AbortController();
  private sessionId = "";
  private resumeToken = "";
  private opened = false;
  private done = false;
  private readonly queue: ClientFrame[] = [];
  private sending = false;

  constructor(
    private readonly options: LongPollOptions,
    private readonly sink: TransportSink,
  ) {
    this.waitMs = options.waitMs ?? 25_000;
    this.slackMs = options.slackMs ?? 10_000;
  }

  open(hello: ClientFrame, token: string | undefined): void {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token) {
      headers.authorization = `Bearer ${token}`;
    }
    this.post("open", { frames: [hello] }, headers, this.slackMs + 10_000, this.pollAbort.signal)
      .then((answer) => {
        if (this.done) {
          return;
        }
        if (answer.status !== 200) {
          this.finish(`long-poll open refused: HTTP ${answer.status} ${answer.text}`.trim(), answer.status);
          return;
        }
        this.opened = true;
        const frames = answer.frames;
        const connected = frames.find((f) => f.connected)?.connected;
        if (connected) {
          this.sessionId = connected.sessionId ?? "";
          this.resumeToken = connected.resumeToken ?? "";
        }
        this.emit(frames);
        if (!this.done && connected && !frames.some((f) => f.close)) {
          void this.pollLoop();
        } else if (!connected) {
          this.finish("long-poll open answered without a session");
        }
      })
      .catch((e) => this.finish(`long-poll open failed: ${describe(e)}`));
  }

  send(frame: ClientFrame): boolean {
    if (this.done || !this.opened || !this.sessionId) {
      return false;
    }
    if (frame.ack) {
      return true; // the next poll carries the cursors
    }
    this.queue.push(frame);
    void this.pump();
    return true;
  }

  close(): void {
    if (this.done) {
      return;
    }
    this.done = true;
    this.pollAbort.abort();
  }

  private async pollLoop(): Promise<void> {
    while (!this.done) {
      const body: LongPollRequest = {
        sessionId: this.sessionId,
        resumeToken: this.resumeToken,
        cursors: this.options.cursors(),
        waitMs: this.waitMs,
      };
      let answer: Answer;
      try {
        answer = await this.post("poll", body, JSON_HEADERS, this.waitMs + this.slackMs, this.pollAbort.signal);
      } catch (e) {
        this.finish(`long-poll poll failed: ${describe(e)}`);
        return;
      }
      if (this.done) {
        return;
      }
      if (answer.status !== 200) {
        this.finish(`long-poll poll answered HTTP ${answer.status} ${answer.text}`.trim(), answer.status);
        return;
      }
      this.emit(answer.frames);
    }
  }

  /** Sends queued frames in order: one send at a time, requests each in a send of their own. */
  private async pump(): Promise<void> {
    if (this.sending) {
      return;
    }
    this.sending = true;
    try {
      while (this.queue.length > 0 && !this.finishedButClose()) {
        const batch: ClientFrame[] = [];
        while (this.queue.length > 0 && !this.queue[0].request) {
          batch.push(this.queue.shift()!);
        }
        if (batch.length === 0) {
          const request = this.queue.shift()!;
          void this.sendBatch([request], (request.request?.timeoutMs ?? 10_000) + this.slackMs);
          continue;
        }
        await this.sendBatch(batch, this.slackMs + 10_000);
      }
    } finally {
      this.sending = false;
    }
  }

  private finishedButClose(): boolean {
    return this.done && !this.queue.some((f) => f.close);
  }

  private async sendBatch(frames: ClientFrame[], timeoutMs: number): Promise<void> {
    const body: LongPollRequest = { sessionId: this.sessionId, resumeToken: this.resumeToken, frames };
    let answer: Answer;
    try {
      answer = await this.post("send", body, JSON_HEADERS, timeoutMs, undefined);
    } catch (e) {
      this.finish(`long-poll send failed: ${describe(e)}`);
      return;
    }
    if (this.done) {
      return;
    }
    if (answer.status !== 200) {
      this.finish(`long-poll send answered HTTP ${answer.status} ${answer.text}`.trim(), answer.status);
      return;
    }
    this.emit(answer.frames);
  }

  /** Hands frames to the client; a Close among them ends the transport after it. */
  private emit(frames: ServerFrame[]): void {
    for (const frame of frames) {
      if (this.done) {
        return;
      }
      this.sink.frame(frame);
      if (frame.close) {
        this.finish(`closed by the node (${frame.close.code ?? 0})`);
        return;
      }
    }
  }

  private async post(
    call: string,
    body: unknown,
    headers: Record<string, string>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Answer> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const onAbort = () => timeout.abort();
    signal?.addEventListener("abort", onAbort);
    try {
      const response = await this.options.fetch(`${this.options.baseUrl}/${call}`, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal: timeout.signal,
      });
      const text = await response.text();
      if (response.status !== 200) {
        return { status: response.status, text: text.slice(0, 200), frames: [] };
      }
      const batch = (text ? JSON.parse(text) : {}) as FrameBatch;
      return { status: 200, text: "", frames: batch.frames ?? [] };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  private finish(reason: string, status?: number): void {
    if (this.done) {
      return;
    }
    this.done = true;
    this.pollAbort.abort();
    this.sink.end({ opened: this.opened, reason, status });
  }
}

interface Answer {
  status: number;
  text: string;
  frames: ServerFrame[];
}

const JSON_HEADERS = { "content-type": "application/json" };

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
  }
  return String(e);
}
