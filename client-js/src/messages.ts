import { fromBase64, utf8, type Body } from "./bytes.js";
import { num, type ServerFrame } from "./frames.js";

/** One message of a stream, handed to the application exactly once and in offset order. */
export interface Message {
  /** `"@"` for the session's inbox (direct messages), otherwise the group's name. */
  readonly stream: string;
  /** Gap-free, increasing position in the stream (from 1). */
  readonly offset: number;
  /** When the node journaled it (Unix epoch ms). */
  readonly timestampMs: number;
  /** The payload. */
  readonly data: Uint8Array;
  /** The payload as UTF-8 text. */
  text(): string;
  /** The payload parsed as JSON. */
  json<T = unknown>(): T;
}

/** The answer to a request to a backend: like `fetch`'s `Response`, settled whatever the status. */
export interface Reply {
  readonly status: number;
  /** Status 200–299. */
  readonly ok: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  text(): string;
  json<T = unknown>(): T;
}

/** A request from the cluster (a backend's `Ask`) to this client. */
export interface IncomingRequest {
  readonly method: string;
  readonly path: string;
  /** Values of the `:name` segments of the handler's path template. */
  readonly params: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
  /** How long the asker waits (ms); 0 when the node did not say. */
  readonly timeoutMs: number;
  text(): string;
  json<T = unknown>(): T;
}

/** What a request handler answers; status defaults to 200. */
export interface ReplyInit {
  status?: number;
  headers?: Record<string, string>;
  body?: Body;
}

/** The outcome of replaying a stream (after a resume, or a join with history). */
export interface RecoveryInfo {
  readonly stream: string;
  /** False when history between the cursor and `firstOffset` no longer exists (a known gap). */
  readonly recovered: boolean;
  readonly firstOffset: number;
  readonly head: number;
}

function textual(bytes: Uint8Array) {
  return {
    text: () => utf8(bytes),
    json: <T>() => JSON.parse(utf8(bytes)) as T,
  };
}

export function messageOf(delivery: NonNullable<ServerFrame["delivery"]>): Message {
  const data = fromBase64(delivery.payload);
  return {
    stream: delivery.stream ?? "",
    offset: num(delivery.offset),
    timestampMs: num(delivery.timestampMs),
    data,
    ...textual(data),
  };
}

export function replyOf(reply: NonNullable<ServerFrame["reply"]>): Reply {
  const body = fromBase64(reply.body);
  const status = reply.status ?? 0;
  return {
    status,
    ok: status >= 200 && status < 300,
    headers: reply.headers ?? {},
    body,
    ...textual(body),
  };
}

export function incomingOf(
  request: NonNullable<ServerFrame["request"]>,
  params: Record<string, string>,
): IncomingRequest {
  const body = fromBase64(request.body);
  return {
    method: request.method ?? "",
    path: request.path ?? "",
    params,
    headers: request.headers ?? {},
    body,
    timeoutMs: request.timeoutMs ?? 0,
    ...textual(body),
  };
}

/**
 * Matches `path` against a template of literal and `:name` segments (`/notes/:id`); `*` matches
 * any path. Returns the parameters, or undefined when it does not match.
 */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  if (template === "*") {
    return {};
  }
  const want = template.split("/");
  const have = path.split("?")[0].split("/");
  if (want.length !== have.length) {
    return undefined;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(":") && want[i].length > 1) {
      if (have[i] === "") {
        return undefined;
      }
      params[want[i].slice(1)] = decodeURIComponent(have[i]);
    } else if (want[i] !== have[i]) {
      return undefined;
    }
  }
  return params;
}
