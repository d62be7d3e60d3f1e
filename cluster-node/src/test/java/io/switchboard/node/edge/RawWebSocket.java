package io.switchboard.node.edge;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.protocol.FrameCodec;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.ServerFrame;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A binary-protocol WebSocket client on a plain socket, for what no WebSocket library lets a test
 * do: choose the socket's receive buffer, write frames without reading, go without a close
 * handshake. Frames are masked as RFC 6455 requires of clients.
 */
final class RawWebSocket implements Closeable {
  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  private RawWebSocket(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
  }

  /** Upgrades a connection to 127.0.0.1:{@code port}; {@code receiveBuffer} bytes, 0: default. */
  static RawWebSocket open(int port, int receiveBuffer) throws IOException {
    Socket socket = new Socket();
    if (receiveBuffer > 0) {
      socket.setReceiveBufferSize(receiveBuffer);
    }
    socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
    socket.setSoTimeout(20_000);
    RawWebSocket ws = new RawWebSocket(socket);
    ws.out.write(
        ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Protocol: "
                + FrameCodec.BINARY_SUBPROTOCOL
                + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      head.write(ws.in.readUnsignedByte());
    }
    String response = head.toString(StandardCharsets.ISO_8859_1);
    assertTrue(response.startsWith("HTTP/1.1 101"), response);
    return ws;
  }

  /** {@code frame} as a complete masked binary WebSocket frame. */
  static byte[] frame(ClientFrame frame) {
    byte[] payload = frame.toByteArray();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(payload.length + 14);
    bytes.write(0x82);
    if (payload.length < 126) {
      bytes.write(0x80 | payload.length);
    } else {
      bytes.write(0x80 | 126);
      bytes.write(payload.length >>> 8);
      bytes.write(payload.length & 0xFF);
    }
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    bytes.writeBytes(mask);
    for (int i = 0; i < payload.length; i++) {
      bytes.write(payload[i] ^ mask[i & 3]);
    }
    return bytes.toByteArray();
  }

  /** Writes {@code bytes} (frames from {@link #frame}); blocks while the node does not read. */
  void write(byte[] bytes) throws IOException {
    out.write(bytes);
  }

  /** The next protocol frame from the node; null when it sent a WebSocket close. */
  ServerFrame read() throws IOException {
    while (true) {
      int first = in.readUnsignedByte();
      long length = in.readUnsignedByte() & 0x7F;
      if (length == 126) {
        length = in.readUnsignedShort();
      } else if (length == 127) {
        length = in.readLong();
      }
      byte[] payload = in.readNBytes((int) length);
      int opcode = first & 0x0F;
      if (opcode == 0x8) {
        return null;
      }
      if (opcode == 0x2) {
        return ServerFrame.parseFrom(payload);
      }
    }
  }

  /** Closes the TCP connection at once: no WebSocket close. */
  @Override
  public void close() throws IOException {
    socket.close();
  }
}
