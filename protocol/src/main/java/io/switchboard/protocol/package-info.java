/**
 * The wire vocabulary shared by every edge of Switchboard: numbered close codes with their
 * reconnect semantics ({@link io.switchboard.protocol.CloseCode}) and the frame codec for the
 * binary and JSON encodings of the client protocol ({@link io.switchboard.protocol.FrameCodec}).
 * The generated Protobuf types live in {@code io.switchboard.protocol.v1}. No business logic here.
 */
package io.switchboard.protocol;
