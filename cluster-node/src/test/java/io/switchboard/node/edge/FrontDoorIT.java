package io.switchboard.node.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The front door over raw TCP: what is not a WebSocket of the client endpoint reaches Pekko HTTP
 * untouched (pipelined keep-alive requests, heads too large to look at), and a connection that
 * stalls in its request head holds up nobody else.
 */
@ExtendWith(LogCapturingExtension.class)
class FrontDoorIT {
  private static final int READ_TIMEOUT_MS = 10_000;
  private static TestNode node;

  @BeforeAll
  static void startNode() {
    node = TestNode.start("");
  }

  @AfterAll
  static void stopNode() {
    node.close();
  }

  @Test
  void pipelinedKeepAliveRequestsAreAnsweredByPekkoInOrder() throws IOException {
    try (Socket socket = connect()) {
      String request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
      socket.getOutputStream().write((request + request).getBytes(StandardCharsets.US_ASCII));
      InputStream in = socket.getInputStream();
      for (int i = 0; i < 2; i++) {
        Response response = Response.read(in);
        assertEquals(200, response.status(), response.toString());
        assertTrue(response.body().startsWith("Switchboard node"), response.body());
      }
    }
  }

  @Test
  void aHeadTooLargeToLookAtIsPekkosToRefuse() throws IOException {
    try (Socket socket = connect()) {
      String huge = "x".repeat(20 * 1024);
      socket
          .getOutputStream()
          .write(
              ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + huge + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
      Response response = Response.read(socket.getInputStream());
      assertTrue(response.status() >= 400 && response.status() < 500, response.toString());
    }
    assertServesWebSockets();
  }

  @Test
  void aConnectionStalledInItsHeadHoldsUpNobody() throws IOException {
    try (Socket stalled = connect()) {
      stalled.getOutputStream().write("GET /ws HTTP/1.1\r\nHost: 127.".getBytes());
      stalled.getOutputStream().flush();
      assertServesWebSockets();
      try (Socket plain = connect()) {
        plain
            .getOutputStream()
            .write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes());
        assertEquals(200, Response.read(plain.getInputStream()).status());
      }
    }
  }

  @Test
  void anUpgradeOfAnotherPathIsRelayed() throws IOException {
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET /no-such-socket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                  + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      assertEquals(404, Response.read(socket.getInputStream()).status());
    }
  }

  /** A client of the protocol connects, joins, publishes and receives its publication. */
  private static void assertServesWebSockets() {
    try (WsClient client = WsClient.open(node.wsUri(), false)) {
      client.connect();
      String group = "front-door-" + UUID.randomUUID();
      long head = client.join(group);
      client.publishAsync(group, "hello");
      assertEquals(
          "hello",
          client
              .deliveriesUntil(group, head + 1, Duration.ofSeconds(10), null)
              .get(0)
              .getPayload()
              .toStringUtf8());
    }
  }

  private static Socket connect() throws IOException {
    Socket socket = new Socket("127.0.0.1", node.httpPort());
    socket.setSoTimeout(READ_TIMEOUT_MS);
    return socket;
  }

  /** An HTTP/1.1 response read off a socket (Content-Length bodies only). */
  private record Response(int status, String head, String body) {
    static Response read(InputStream in) throws IOException {
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          throw new IOException("connection closed after " + head);
        }
        head.write(b);
      }
      String text = head.toString(StandardCharsets.ISO_8859_1);
      int length = 0;
      for (String line : text.split("\r\n")) {
        if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
          length = Integer.parseInt(line.substring(line.indexOf(':') + 1).trim());
        }
      }
      byte[] body = in.readNBytes(length);
      return new Response(
          Integer.parseInt(text.split(" ")[1]), text, new String(body, StandardCharsets.UTF_8));
    }
  }
}
