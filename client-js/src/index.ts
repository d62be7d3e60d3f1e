/**
 * Switchboard's client SDK for browsers and Node.js 20+.
 *
 * @packageDocumentation
 */
export { SwitchboardClient } from "./client.js";
export type { ClientOptions, ConnectionState, RequestOptions, StateEvent, TokenSource } from "./client.js";
export type { IncomingRequest, Message, RecoveryInfo, Reply, ReplyInit } from "./messages.js";
export { SwitchboardError } from "./errors.js";
export { Backoff } from "./backoff.js";
export type { BackoffOptions } from "./backoff.js";
export { AckBatcher } from "./acks.js";
export type { AckOptions } from "./acks.js";
export { Cursors } from "./cursors.js";
export { PendingFrames } from "./pending.js";
export { TransportPolicy } from "./policy.js";
export type { TransportPolicyOptions } from "./policy.js";
export { LongPollTransport } from "./longpoll.js";
export type { FetchLike, LongPollOptions } from "./longpoll.js";
export { WebSocketTransport, probeWebSocket } from "./transport.js";
export type {
  Transport,
  TransportEnd,
  TransportKind,
  TransportSink,
  WebSocketConstructor,
  WebSocketLike,
} from "./transport.js";
export type { Clock } from "./clock.js";
export { systemClock } from "./clock.js";
export type { StorageLike } from "./storage.js";
export type { Body } from "./bytes.js";
export { CloseCode, closeAction, JSON_SUBPROTOCOL } from "./frames.js";
export type { ClientFrame, ServerFrame, FrameBatch, LongPollRequest, WireCursor } from "./frames.js";
