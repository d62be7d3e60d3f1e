package io.switchboard.node.edge;

import io.switchboard.node.auth.Rejection;
import io.switchboard.protocol.FrameCodec;
import io.switchboard.protocol.v1.ClientFrame;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.util.ByteString;

/**
 * Turns inbound WebSocket messages into client frames. Every message, strict or streamed, is
 * drained, and never beyond the frame size limit; binary messages are Protobuf, text messages JSON,
 * whatever subprotocol was negotiated (the subprotocol fixes only what the node sends). Decoding
 * happens on the stream, not in the connection actor.
 */
final class InboundFrames {
  private InboundFrames() {}

  /** What arrived from the client. */
  sealed interface Inbound {}

  /** A well-formed frame. */
  record Decoded(ClientFrame frame) implements Inbound {}

  /** Bytes that are not a frame. */
  record Malformed(String reason) implements Inbound {}

  /** A message over the size limit (only its first bytes were read). */
  record TooLarge(int limit) implements Inbound {}

  /**
   * A well-formed frame the interceptors already refused on the socket's thread ({@link AckLane});
   * the connection answers the refusal without checking the frame again.
   */
  record Refused(ClientFrame frame, Rejection rejection) implements Inbound {}

  /** The decoding stage for one connection. */
  static Flow<Message, Inbound, NotUsed> decoder(int maxFrameSize, Materializer materializer) {
    return Flow.<Message>create().mapAsync(1, m -> decode(m, maxFrameSize, materializer));
  }

  private static CompletionStage<Inbound> decode(
      Message message, int maxFrameSize, Materializer materializer) {
    if (message.isText()) {
      TextMessage text = message.asTextMessage();
      if (text.isStrict()) {
        return CompletableFuture.completedFuture(decodeText(text.getStrictText(), maxFrameSize));
      }
      return text.getStreamedText()
          .limitWeighted(maxFrameSize, s -> (long) s.length())
          .runFold(new StringBuilder(), StringBuilder::append, materializer)
          .handle(
              (sb, failure) ->
                  failure == null
                      ? decodeText(sb.toString(), maxFrameSize)
                      : new TooLarge(maxFrameSize));
    }
    BinaryMessage binary = message.asBinaryMessage();
    if (binary.isStrict()) {
      return CompletableFuture.completedFuture(decodeBinary(binary.getStrictData(), maxFrameSize));
    }
    return binary
        .getStreamedData()
        .limitWeighted(maxFrameSize, b -> (long) b.size())
        .runFold(ByteString.emptyByteString(), ByteString::concat, materializer)
        .handle(
            (bytes, failure) ->
                failure == null ? decodeBinary(bytes, maxFrameSize) : new TooLarge(maxFrameSize));
  }

  /** Decodes a complete text message (canonical JSON). */
  static Inbound decodeText(String json, int maxFrameSize) {
    if (json.length() > maxFrameSize) {
      return new TooLarge(maxFrameSize);
    }
    try {
      return new Decoded(FrameCodec.decodeJson(json));
    } catch (FrameCodec.MalformedFrameException e) {
      return new Malformed(e.getMessage());
    }
  }

  private static Inbound decodeBinary(ByteString bytes, int maxFrameSize) {
    if (bytes.size() > maxFrameSize) {
      return new TooLarge(maxFrameSize);
    }
    return decodeBinary(bytes.toArray(), maxFrameSize);
  }

  /** Decodes a complete binary message (Protobuf). */
  static Inbound decodeBinary(byte[] bytes, int maxFrameSize) {
    if (bytes.length > maxFrameSize) {
      return new TooLarge(maxFrameSize);
    }
    try {
      return new Decoded(FrameCodec.decodeBinary(bytes));
    } catch (FrameCodec.MalformedFrameException e) {
      return new Malformed(e.getMessage());
    }
  }
}
