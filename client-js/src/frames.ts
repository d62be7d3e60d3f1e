/**
 * The wire vocabulary of `switchboard.v1.json`: the canonical Protobuf JSON mapping of
 * `protocol/src/main/proto/switchboard/v1/client.proto`. Field names are lowerCamelCase, `bytes`
 * are base64 strings, 64-bit integers are strings on output (numbers are accepted on input), and
 * fields holding their default value are omitted.
 *
 * @packageDocumentation
 */

/** The WebSocket subprotocol of the JSON encoding. */
export const JSON_SUBPROTOCOL = "switchboard.v1.json";

/** A 64-bit integer as it appears in canonical Protobuf JSON. */
export type Uint64 = string | number;

/** A client's position in one stream: it has every message up to and including `offset`. */
export interface WireCursor {
  stream: string;
  offset: Uint64;
}

/** A frame sent by the client (exactly one kind set). */
export interface ClientFrame {
  id?: Uint64;
  connect?: { token?: string; client?: string };
  resume?: { sessionId: string; resumeToken: string; cursors?: WireCursor[]; token?: string };
  join?: { group: string; sinceOffset?: Uint64 };
  leave?: { group: string };
  publish?: { group: string; payload?: string; idempotencyKey?: string };
  message?: { path: string; headers?: Record<string, string>; body?: string };
  request?: {
    method: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs?: number;
  };
  reply?: { status: number; headers?: Record<string, string>; body?: string; requestId: Uint64 };
  ack?: { cursors: WireCursor[] };
  ping?: Record<string, never>;
  pong?: Record<string, never>;
  close?: { code?: number; reason?: string };
  refresh?: { token: string };
}

/** A frame sent by a node (exactly one kind set; absent fields hold their default). */
export interface ServerFrame {
  id?: Uint64;
  connected?: {
    sessionId?: string;
    resumeToken?: string;
    resumed?: boolean;
    userId?: string;
    groups?: string[];
    pingIntervalMs?: number;
    node?: string;
  };
  joined?: { group?: string; head?: Uint64 };
  left?: { group?: string };
  published?: { group?: string; offset?: Uint64 };
  delivery?: { stream?: string; offset?: Uint64; payload?: string; timestampMs?: Uint64 };
  recovery?: { stream?: string; recovered?: boolean; firstOffset?: Uint64; head?: Uint64 };
  request?: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs?: number;
    requestId?: Uint64;
  };
  reply?: { status?: number; headers?: Record<string, string>; body?: string; requestId?: Uint64 };
  ping?: Record<string, never>;
  pong?: Record<string, never>;
  error?: { code?: string | number; message?: string };
  close?: { code?: number; reason?: string };
  tokenExpiring?: { expiresAtMs?: Uint64 };
}

/** The body of `/lp/poll` and `/lp/send` (long-poll contract v1). */
export interface LongPollRequest {
  sessionId: string;
  resumeToken: string;
  cursors?: WireCursor[];
  frames?: ClientFrame[];
  waitMs?: number;
}

/** The body of every 200 answer of the long-poll endpoints. */
export interface FrameBatch {
  frames?: ServerFrame[];
}

/** Reads a 64-bit integer of the JSON mapping (absent = 0). Exact up to 2^53. */
export function num(value: Uint64 | undefined | null): number {
  if (value === undefined || value === null || value === "") {
    return 0;
  }
  return typeof value === "number" ? value : Number(value);
}

/** The close codes of protocol/README.md (`Close.code`). */
export const CloseCode = {
  NORMAL: 1000,
  SHUTTING_DOWN: 3000,
  SLOW_CONSUMER: 3001,
  HEARTBEAT_TIMEOUT: 3002,
  INTERNAL_ERROR: 3003,
  TOO_MANY_FRAMES: 3004,
  CONNECT_TIMEOUT: 3005,
  TOKEN_EXPIRED: 3006,
  PROTOCOL_ERROR: 3500,
  UNAUTHORIZED: 3501,
  FORBIDDEN: 3502,
  FRAME_TOO_LARGE: 3503,
  SESSION_REPLACED: 3504,
  SESSION_ENDED: 3505,
} as const;

/** What a close code asks the client to do (protocol/README.md, "Close codes"). */
export type CloseAction = "resume" | "stop";

/**
 * 3000–3499: transient, reconnect and resume. 1000, 3500–3999 (terminal) and 4000–4999 (the
 * application's): stop, never resumed automatically. Any other code is treated as transient.
 */
export function closeAction(code: number): CloseAction {
  if (code >= 3000 && code <= 3499) {
    return "resume";
  }
  if (code === 1000 || (code >= 3500 && code <= 4999)) {
    return "stop";
  }
  return "resume";
}

/** The error codes of protocol/README.md (`Error.code`), by name. */
export const ErrorCodes = [
  "BAD_FRAME",
  "UNKNOWN_FRAME",
  "INVALID_ARGUMENT",
  "NOT_CONNECTED",
  "ALREADY_CONNECTED",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "SESSION_NOT_FOUND",
  "NOT_A_MEMBER",
  "LIMIT_EXCEEDED",
  "RATE_LIMITED",
  "FRAME_TOO_LARGE",
  "NO_ROUTE",
  "TIMEOUT",
  "BACKEND_GONE",
  "INTERNAL",
  "UNAVAILABLE",
] as const;

const ERROR_NUMBERS: Record<number, string> = {
  100: "BAD_FRAME",
  101: "UNKNOWN_FRAME",
  102: "INVALID_ARGUMENT",
  103: "NOT_CONNECTED",
  104: "ALREADY_CONNECTED",
  200: "UNAUTHORIZED",
  201: "FORBIDDEN",
  202: "SESSION_NOT_FOUND",
  203: "NOT_A_MEMBER",
  300: "LIMIT_EXCEEDED",
  301: "RATE_LIMITED",
  302: "FRAME_TOO_LARGE",
  400: "NO_ROUTE",
  401: "TIMEOUT",
  402: "BACKEND_GONE",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

/** The name of an error code given by name or number in JSON. */
export function errorName(code: string | number | undefined): string {
  if (code === undefined) {
    return "ERROR_CODE_UNSPECIFIED";
  }
  if (typeof code === "number") {
    return ERROR_NUMBERS[code] ?? String(code);
  }
  return code;
}
