package io.switchboard.protocol;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.ServerFrame;

/**
 * Encodes and decodes client-protocol frames in both wire encodings: Protobuf binary and the
 * canonical Protobuf JSON mapping (subprotocol {@value #JSON_SUBPROTOCOL}). Thread-safe and
 * stateless; decoding never throws anything but {@link MalformedFrameException}.
 */
public final class FrameCodec {

  /** WebSocket subprotocol of the binary encoding (also the default without a subprotocol). */
  public static final String BINARY_SUBPROTOCOL = "switchboard.v1";

  /** WebSocket subprotocol of the JSON encoding. */
  public static final String JSON_SUBPROTOCOL = "switchboard.v1.json";

  private static final JsonFormat.Printer JSON_PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();

  private FrameCodec() {}

  /** Decodes a client frame from Protobuf binary. */
  public static ClientFrame decodeBinary(byte[] bytes) throws MalformedFrameException {
    try {
      return ClientFrame.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new MalformedFrameException("not a Protobuf ClientFrame: " + e.getMessage(), e);
    }
  }

  /** Decodes a client frame from its canonical JSON mapping. */
  public static ClientFrame decodeJson(String json) throws MalformedFrameException {
    try {
      ClientFrame.Builder builder = ClientFrame.newBuilder();
      ProtoJson.merge(json, builder, true);
      return builder.build();
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new MalformedFrameException("not a JSON ClientFrame: " + e.getMessage(), e);
    }
  }

  /** Encodes a server frame to Protobuf binary. */
  public static byte[] encodeBinary(ServerFrame frame) {
    return frame.toByteArray();
  }

  /** Encodes a server frame to its canonical JSON mapping. */
  public static String encodeJson(ServerFrame frame) {
    try {
      return JSON_PRINTER.print(frame);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("ServerFrame cannot be printed as JSON", e);
    }
  }

  /** Encodes a client frame to its canonical JSON mapping (clients and tests). */
  public static String encodeJson(ClientFrame frame) {
    try {
      return JSON_PRINTER.print(frame);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("ClientFrame cannot be printed as JSON", e);
    }
  }

  /** Decodes a server frame from its canonical JSON mapping (clients and tests). */
  public static ServerFrame decodeServerJson(String json) throws MalformedFrameException {
    try {
      ServerFrame.Builder builder = ServerFrame.newBuilder();
      ProtoJson.merge(json, builder, true);
      return builder.build();
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new MalformedFrameException("not a JSON ServerFrame: " + e.getMessage(), e);
    }
  }

  /** A frame that cannot be decoded; the connection answers it with an Error frame. */
  public static final class MalformedFrameException extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedFrameException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
