package io.switchboard.loadtest;

import io.gatling.http.action.ws.WsInboundMessage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * What one client has: its session, and per stream the offset up to which it has every message. A
 * delivery at or below it is a duplicate (dropped, as the SDK does); one beyond the next offset is
 * a gap: messages missed, which the guarantees say never happens. Used from one virtual user's
 * actions only (Gatling runs them one at a time).
 */
final class ClientState {
  /** Totals over all clients. */
  static final LongAdder GAPS = new LongAdder();

  static final LongAdder DUPLICATES = new LongAdder();
  static final LongAdder HISTORY_LOST = new LongAdder();
  static final LongAdder ERRORS = new LongAdder();

  final String user;
  String sessionId = "";
  String resumeToken = "";
  private final Map<String, Long> last = new LinkedHashMap<>();
  private long missed;
  private long received;
  private String lastError = "";

  /** When the last Recovery frame arrived (epoch ms), 0 before any. */
  long recoveredAt;

  ClientState(String user) {
    this.user = user;
  }

  /** Reads the Connected frame (also of a resume). */
  void connected(String frame) {
    if (frame == null) {
      return;
    }
    String id = Frames.field(frame, "sessionId");
    if (id != null) {
      sessionId = id;
    }
    String token = Frames.field(frame, "resumeToken");
    if (token != null) {
      resumeToken = token;
    }
  }

  /** Reads the Joined frame: the stream starts after its head. */
  void joined(String group, String frame) {
    if (frame == null) {
      return;
    }
    last.putIfAbsent(group, Frames.number(frame, "head", 0));
  }

  void onMessages(List<WsInboundMessage> messages) {
    for (WsInboundMessage message : messages) {
      if (message instanceof WsInboundMessage.Text text) {
        onFrame(text.message(), text.timestamp());
      }
    }
  }

  void onFrame(String frame, long receivedMillis) {
    if (Frames.is(frame, "delivery")) {
      int at = frame.indexOf("\"delivery\"");
      String stream = Frames.field(frame, "stream", at);
      long offset = Frames.number(frame, "offset", at);
      delivered(stream, offset);
      Deliveries.record(Frames.sentMillis(Frames.field(frame, "payload", at)), receivedMillis);
    } else if (Frames.is(frame, "connected")) {
      connected(frame);
    } else if (Frames.is(frame, "recovery")) {
      recoveredAt = receivedMillis;
      if (!frame.contains("\"recovered\":true")) {
        HISTORY_LOST.increment();
      }
    } else if (Frames.is(frame, "error") || Frames.is(frame, "close")) {
      ERRORS.increment();
      lastError = frame;
    }
  }

  /**
   * Reads a long-poll answer, {@code {"frames":[...]}}, received at {@code receivedMillis}: its
   * deliveries in order, and errors or a close.
   */
  void onBatch(String body, long receivedMillis) {
    if (body == null) {
      return;
    }
    int at = body.indexOf("\"delivery\":{");
    while (at >= 0) {
      delivered(Frames.field(body, "stream", at), Frames.number(body, "offset", at));
      Deliveries.record(Frames.sentMillis(Frames.field(body, "payload", at)), receivedMillis);
      at = body.indexOf("\"delivery\":{", at + 1);
    }
    if (body.contains("\"error\":{") || body.contains("\"close\":{")) {
      ERRORS.increment();
      lastError = body.length() > 300 ? body.substring(0, 300) : body;
    }
  }

  private void delivered(String stream, long offset) {
    Long previous = last.get(stream);
    long have = previous == null ? 0 : previous;
    if (offset <= have) {
      DUPLICATES.increment();
      return;
    }
    if (offset > have + 1) {
      missed += offset - have - 1;
      GAPS.add(offset - have - 1);
    }
    received++;
    last.put(stream, offset);
  }

  private long ackedReceived;
  private long ackedAt;

  /**
   * Whether an Ack is due: something arrived since the last one, at most one a second (as the SDK
   * does; every Ack costs the node a session update).
   */
  boolean ackDue(long now) {
    if (received == ackedReceived || now - ackedAt < 1000 || last.isEmpty()) {
      return false;
    }
    ackedReceived = received;
    ackedAt = now;
    return true;
  }

  /** Cursors to Ack or Resume with. */
  Map<String, Long> cursors() {
    return last;
  }

  long received() {
    return received;
  }

  /** Whether every stream reached the highest offset the publishers got acknowledged. */
  boolean caughtUp() {
    for (Map.Entry<String, Long> stream : last.entrySet()) {
      if (stream.getValue() < Published.head(stream.getKey())) {
        return false;
      }
    }
    return true;
  }

  /** "ok", or what is wrong: gaps, or streams short of the acknowledged head. */
  String verdict() {
    StringBuilder wrong = new StringBuilder();
    if (missed > 0) {
      wrong.append("missed ").append(missed).append(" offsets; ");
    }
    for (Map.Entry<String, Long> stream : last.entrySet()) {
      long head = Published.head(stream.getKey());
      if (stream.getValue() < head) {
        wrong
            .append(stream.getKey())
            .append(" at ")
            .append(stream.getValue())
            .append(" of ")
            .append(head)
            .append("; ");
      }
    }
    if (wrong.length() > 0 && !lastError.isEmpty()) {
      wrong.append("last error ").append(lastError);
    }
    return wrong.length() == 0 ? "ok" : wrong.toString();
  }
}
