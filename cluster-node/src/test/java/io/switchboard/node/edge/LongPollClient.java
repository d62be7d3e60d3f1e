package io.switchboard.node.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.switchboard.node.TestNode;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connect;
import io.switchboard.protocol.v1.Cursor;
import io.switchboard.protocol.v1.Delivery;
import io.switchboard.protocol.v1.FrameBatch;
import io.switchboard.protocol.v1.Join;
import io.switchboard.protocol.v1.LongPollRequest;
import io.switchboard.protocol.v1.Publish;
import io.switchboard.protocol.v1.ServerFrame;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A long-poll client for tests: JSON bodies over the JDK HttpClient to any node, the session's id,
 * resume token and cursors kept here. Cursors advance only when the test says so, so a test can
 * play a lost answer by polling again with the same cursors.
 */
final class LongPollClient {
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();

  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final AtomicLong ids = new AtomicLong();
  private final Map<String, Long> cursors = new TreeMap<>();
  private String sessionId = "";
  private String resumeToken = "";

  /** An HTTP answer: status, body, and the frames when it was a 200. */
  record Answer(int status, String body, List<ServerFrame> frames) {}

  String sessionId() {
    return sessionId;
  }

  String resumeToken() {
    return resumeToken;
  }

  long nextId() {
    return ids.incrementAndGet();
  }

  Map<String, Long> cursors() {
    return cursors;
  }

  /** Opens a session on {@code node} with Connect and a bearer token (null: none). */
  Answer open(TestNode node, String bearer) {
    ClientFrame connect =
        ClientFrame.newBuilder().setId(nextId()).setConnect(Connect.getDefaultInstance()).build();
    return open(node, bearer, Map.of(), connect);
  }

  /** Opens with the given frames and headers; remembers the session when Connected. */
  Answer open(TestNode node, String bearer, Map<String, String> headers, ClientFrame... frames) {
    LongPollRequest body = LongPollRequest.newBuilder().addAllFrames(List.of(frames)).build();
    Answer answer = post(node, "open", json(body), bearer, headers);
    if (answer.status() == 200
        && !answer.frames().isEmpty()
        && answer.frames().get(0).hasConnected()) {
      sessionId = answer.frames().get(0).getConnected().getSessionId();
      resumeToken = answer.frames().get(0).getConnected().getResumeToken();
    }
    return answer;
  }

  /** Polls {@code node} with the current cursors; {@code waitMs} 0: the node's hold time. */
  List<ServerFrame> poll(TestNode node, int waitMs) {
    return ok(pollAsync(node, waitMs).join());
  }

  CompletableFuture<Answer> pollAsync(TestNode node, int waitMs) {
    return postAsync(node, "poll", json(request().setWaitMs(waitMs).build()), null, Map.of());
  }

  /** Sends frames to {@code node}; the answers to them. */
  List<ServerFrame> send(TestNode node, ClientFrame... frames) {
    return ok(
        post(node, "send", json(request().addAllFrames(List.of(frames)).build()), null, Map.of()));
  }

  /**
   * Takes the deliveries of a poll answer: each stream's must follow its cursor without a gap or a
   * duplicate; the cursors then advance past them.
   */
  List<Delivery> accept(List<ServerFrame> frames) {
    List<Delivery> deliveries =
        frames.stream().filter(ServerFrame::hasDelivery).map(ServerFrame::getDelivery).toList();
    for (Delivery d : deliveries) {
      long expected = cursors.getOrDefault(d.getStream(), 0L) + 1;
      assertEquals(expected, d.getOffset(), "stream " + d.getStream() + ": no gap, no duplicate");
      cursors.put(d.getStream(), d.getOffset());
    }
    return deliveries;
  }

  /** A request of this session with the current cursors. */
  LongPollRequest.Builder request() {
    LongPollRequest.Builder b =
        LongPollRequest.newBuilder().setSessionId(sessionId).setResumeToken(resumeToken);
    cursors.forEach((s, o) -> b.addCursors(Cursor.newBuilder().setStream(s).setOffset(o)));
    return b;
  }

  ClientFrame join(String group) {
    return ClientFrame.newBuilder()
        .setId(nextId())
        .setJoin(Join.newBuilder().setGroup(group))
        .build();
  }

  ClientFrame publish(String group, String payload) {
    return ClientFrame.newBuilder()
        .setId(nextId())
        .setPublish(
            Publish.newBuilder().setGroup(group).setPayload(ByteString.copyFromUtf8(payload)))
        .build();
  }

  Answer post(TestNode node, String call, String body, String bearer, Map<String, String> headers) {
    return postAsync(node, call, body, bearer, headers).join();
  }

  CompletableFuture<Answer> postAsync(
      TestNode node, String call, String body, String bearer, Map<String, String> headers) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/lp/" + call))
            .timeout(Duration.ofSeconds(60))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (bearer != null) {
      request.header("authorization", "Bearer " + bearer);
    }
    headers.forEach(request::header);
    return http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString())
        .thenApply(
            response ->
                new Answer(
                    response.statusCode(),
                    response.body(),
                    response.statusCode() == 200 ? frames(response.body()) : List.of()));
  }

  static String json(LongPollRequest request) {
    try {
      return PRINTER.print(request);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<ServerFrame> frames(String json) {
    try {
      FrameBatch.Builder batch = FrameBatch.newBuilder();
      PARSER.merge(json, batch);
      return batch.getFramesList();
    } catch (InvalidProtocolBufferException e) {
      throw new UncheckedIOException(new IOException("not a FrameBatch: " + json, e));
    }
  }

  private static List<ServerFrame> ok(Answer answer) {
    assertEquals(200, answer.status(), answer.body());
    return answer.frames();
  }
}
