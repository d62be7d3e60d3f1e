package io.switchboard.node.edge;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;

/**
 * Complete server-to-client WebSocket frames (RFC 6455 §5.2: final fragment, no extension bits, no
 * mask, the payload length in 7, 7+16 or 7+64 bits) written by the {@link NettyTransport} as plain
 * bytes, past Netty's frame encoder. A frame shared by many sockets is made once, in direct memory
 * that the garbage collector frees, and each socket writes a view of it: no copy, no allocation
 * beyond the view.
 */
final class WebSocketWire {

  private static final int FIN = 0x80;
  private static final int OPCODE_TEXT = 0x1;
  private static final int OPCODE_BINARY = 0x2;

  private WebSocketWire() {}

  /**
   * A frame around {@code payload} (UTF-8 JSON when {@code text}, else Protobuf) for every socket
   * of the node: write {@code frame.duplicate()}. Never released; the memory goes with the last
   * view.
   */
  static ByteBuf shared(boolean text, byte[] payload) {
    ByteBuffer memory = ByteBuffer.allocateDirect(headerLength(payload.length) + payload.length);
    ByteBuf frame = Unpooled.wrappedBuffer(memory).clear();
    writeFrame(frame, text, payload);
    return Unpooled.unreleasableBuffer(frame);
  }

  /** A frame around {@code payload} for one socket, from its pooled memory (released once sent). */
  static ByteBuf single(ByteBufAllocator alloc, boolean text, byte[] payload) {
    ByteBuf frame = alloc.directBuffer(headerLength(payload.length) + payload.length);
    writeFrame(frame, text, payload);
    return frame;
  }

  private static int headerLength(int payloadLength) {
    return payloadLength < 126 ? 2 : payloadLength <= 0xFFFF ? 4 : 10;
  }

  private static void writeFrame(ByteBuf frame, boolean text, byte[] payload) {
    frame.writeByte(FIN | (text ? OPCODE_TEXT : OPCODE_BINARY));
    int length = payload.length;
    if (length < 126) {
      frame.writeByte(length);
    } else if (length <= 0xFFFF) {
      frame.writeByte(126);
      frame.writeShort(length);
    } else {
      frame.writeByte(127);
      frame.writeLong(length);
    }
    frame.writeBytes(payload);
  }
}
