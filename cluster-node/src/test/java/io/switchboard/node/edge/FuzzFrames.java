package io.switchboard.node.edge;

import com.google.protobuf.ByteString;
import io.switchboard.protocol.FrameCodec;
import io.switchboard.protocol.v1.Ack;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Close;
import io.switchboard.protocol.v1.Connect;
import io.switchboard.protocol.v1.Cursor;
import io.switchboard.protocol.v1.Join;
import io.switchboard.protocol.v1.Leave;
import io.switchboard.protocol.v1.Message;
import io.switchboard.protocol.v1.Ping;
import io.switchboard.protocol.v1.Pong;
import io.switchboard.protocol.v1.Publish;
import io.switchboard.protocol.v1.Refresh;
import io.switchboard.protocol.v1.Reply;
import io.switchboard.protocol.v1.Request;
import io.switchboard.protocol.v1.Resume;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Hostile frames from a seeded generator: random bytes and text, valid frames mutated in their
 * binary or JSON form, JSON of the right shape with wrong values, and now and then a well-formed
 * frame, so that fuzzing also reaches the states behind Connect and Join. Deterministic for a seed.
 * One per fuzzing thread.
 */
final class FuzzFrames {

  /** One message to send: binary or text. */
  record Fuzz(byte[] binary, String text) {
    boolean isText() {
      return text != null;
    }
  }

  private static final String[] KINDS = {
    "connect", "resume", "join", "leave", "publish", "message", "request", "reply", "ack", "ping",
    "pong", "refresh", "bogus", "id"
  };

  private static final String JSON_CHARS = "{}[]\":,\\";

  private final SplittableRandom random;
  private final List<String> victimSessionIds;
  private final int oversize;
  private final byte[][] jsonCorpus;

  FuzzFrames(long seed, List<String> victimSessionIds, int oversize) {
    this.random = new SplittableRandom(seed);
    this.victimSessionIds = victimSessionIds;
    this.oversize = oversize;
    // JSON encoding is slow next to the node's work: valid JSON frames are made once, then mutated.
    this.jsonCorpus = new byte[256][];
    for (int i = 0; i < jsonCorpus.length; i++) {
      jsonCorpus[i] = FrameCodec.encodeJson(valid()).getBytes(StandardCharsets.UTF_8);
    }
  }

  /** A well-formed Connect without a token (the socket's upgrade carried one). */
  static ClientFrame connect() {
    return ClientFrame.newBuilder().setId(1).setConnect(Connect.getDefaultInstance()).build();
  }

  Fuzz next() {
    // Frames that close the socket (oversized, Close) are rare: each costs a reconnection.
    if (random.nextInt(5000) == 0) {
      return new Fuzz(new byte[oversize], null);
    }
    int dice = random.nextInt(1000);
    if (dice < 200) {
      return new Fuzz(bytes(random.nextInt(300)), null);
    }
    if (dice < 300) {
      return new Fuzz(null, text(random.nextInt(300)));
    }
    if (dice < 600) {
      return new Fuzz(mutate(valid().toByteArray()), null);
    }
    if (dice < 750) {
      byte[] json = jsonCorpus[random.nextInt(jsonCorpus.length)];
      return new Fuzz(null, new String(mutate(json.clone()), StandardCharsets.UTF_8));
    }
    if (dice < 900) {
      return new Fuzz(null, shapedJson());
    }
    if (random.nextBoolean()) {
      return new Fuzz(valid().toByteArray(), null);
    }
    return new Fuzz(
        null, new String(jsonCorpus[random.nextInt(jsonCorpus.length)], StandardCharsets.UTF_8));
  }

  /** A well-formed frame of any kind with hostile values. */
  ClientFrame valid() {
    ClientFrame.Builder b = ClientFrame.newBuilder().setId(id());
    switch (random.nextInt(16)) {
      case 0 -> b.setConnect(Connect.newBuilder().setClient(string(20)));
      case 1 ->
          b.setResume(
              Resume.newBuilder()
                  .setSessionId(sessionId())
                  .setResumeToken(string(43))
                  .addCursors(cursor()));
      case 2, 3 -> b.setJoin(join());
      case 4 -> b.setLeave(Leave.newBuilder().setGroup(group()));
      case 5, 6 ->
          b.setPublish(
              Publish.newBuilder()
                  .setGroup(group())
                  .setPayload(ByteString.copyFrom(bytes(random.nextInt(200))))
                  .setIdempotencyKey(random.nextBoolean() ? "" : string(10)));
      case 7 ->
          b.setMessage(
              Message.newBuilder()
                  .setPath("/" + string(10))
                  .putHeaders(string(5), string(5))
                  .setBody(ByteString.copyFrom(bytes(20))));
      case 8 ->
          b.setRequest(
              Request.newBuilder()
                  .setMethod("GET")
                  .setPath("/" + string(10))
                  .setTimeoutMs(random.nextInt(2000)));
      case 9 -> b.setReply(Reply.newBuilder().setStatus(200).setRequestId(random.nextLong()));
      case 10 -> b.setAck(Ack.newBuilder().addCursors(cursor()).addCursors(cursor()));
      case 11 -> b.setPong(Pong.getDefaultInstance());
      case 12 -> b.setRefresh(Refresh.newBuilder().setToken(string(40)));
      case 13 -> {
        if (random.nextInt(200) == 0) {
          b.setClose(Close.newBuilder().setCode(random.nextInt(5000)));
        } else {
          b.setPing(Ping.getDefaultInstance());
        }
      }
      default -> b.setPing(Ping.getDefaultInstance());
    }
    return b.build();
  }

  private Join join() {
    Join.Builder j = Join.newBuilder().setGroup(group());
    if (random.nextBoolean()) {
      j.setSinceOffset(random.nextInt(3) == 0 ? random.nextLong() : random.nextInt(10));
    }
    return j.build();
  }

  private Cursor cursor() {
    String stream = random.nextBoolean() ? "@" : group();
    return Cursor.newBuilder()
        .setStream(stream)
        .setOffset(random.nextBoolean() ? random.nextLong() : random.nextInt(100))
        .build();
  }

  private String group() {
    return switch (random.nextInt(6)) {
      case 0 -> string(random.nextInt(260));
      case 1 -> "@" + string(3);
      case 2 -> "good:" + random.nextInt(3);
      default -> "fuzz:" + random.nextInt(8);
    };
  }

  private String sessionId() {
    if (!victimSessionIds.isEmpty() && random.nextBoolean()) {
      return victimSessionIds.get(random.nextInt(victimSessionIds.size()));
    }
    return string(22);
  }

  private long id() {
    return switch (random.nextInt(4)) {
      case 0 -> 0;
      case 1 -> random.nextLong();
      default -> random.nextInt(1_000_000);
    };
  }

  private byte[] mutate(byte[] in) {
    byte[] out = in.length == 0 ? bytes(1) : in;
    int edits = 1 + random.nextInt(4);
    for (int e = 0; e < edits && out.length > 0; e++) {
      int at = random.nextInt(out.length);
      switch (random.nextInt(6)) {
        case 0 -> out[at] ^= (byte) (1 << random.nextInt(8));
        case 1 -> out[at] = (byte) random.nextInt(256);
        case 2 -> out = Arrays.copyOf(out, at);
        case 3 -> {
          byte[] inserted = bytes(1 + random.nextInt(8));
          byte[] grown = new byte[out.length + inserted.length];
          System.arraycopy(out, 0, grown, 0, at);
          System.arraycopy(inserted, 0, grown, at, inserted.length);
          System.arraycopy(out, at, grown, at + inserted.length, out.length - at);
          out = grown;
        }
        case 4 -> {
          int len = Math.min(out.length - at, 1 + random.nextInt(8));
          byte[] shrunk = new byte[out.length - len];
          System.arraycopy(out, 0, shrunk, 0, at);
          System.arraycopy(out, at + len, shrunk, at, out.length - at - len);
          out = shrunk;
        }
        default -> {
          int len = Math.min(out.length - at, 1 + random.nextInt(16));
          byte[] doubled = new byte[out.length + len];
          System.arraycopy(out, 0, doubled, 0, at + len);
          System.arraycopy(out, at, doubled, at + len, out.length - at);
          out = doubled;
        }
      }
    }
    return out;
  }

  /** JSON shaped like a frame (or almost), with values of every wrong type. */
  /** Odd numbers, among them exponents that cost a naive BigDecimal parser minutes. */
  private static final String[] NUMBERS = {
    "1e308", "-0.5", "1e999999999", "\"1E+2147483647\"", "\"9e99999999\"", "18446744073709551616"
  };

  private String shapedJson() {
    StringBuilder sb = new StringBuilder("{");
    int fields = 1 + random.nextInt(3);
    for (int i = 0; i < fields; i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append('"').append(KINDS[random.nextInt(KINDS.length)]).append("\":");
      value(sb, 0);
    }
    sb.append('}');
    if (random.nextInt(10) == 0) {
      sb.setLength(random.nextInt(sb.length()));
    }
    return sb.toString();
  }

  private void value(StringBuilder sb, int depth) {
    switch (random.nextInt(depth > 2 ? 5 : 7)) {
      case 0 -> sb.append(random.nextLong());
      case 1 -> sb.append(NUMBERS[random.nextInt(NUMBERS.length)]);
      case 2 -> sb.append(random.nextBoolean() ? "null" : "true");
      case 3, 4 -> sb.append('"').append(escape(string(random.nextInt(40)))).append('"');
      case 5 -> {
        sb.append('[');
        int n = random.nextInt(4);
        for (int i = 0; i < n; i++) {
          if (i > 0) {
            sb.append(',');
          }
          value(sb, depth + 1);
        }
        sb.append(']');
      }
      default -> {
        sb.append('{');
        int n = random.nextInt(4);
        String[] keys = {"group", "sessionId", "offset", "payload", "cursors", "token", "id", "x"};
        for (int i = 0; i < n; i++) {
          if (i > 0) {
            sb.append(',');
          }
          sb.append('"').append(keys[random.nextInt(keys.length)]).append("\":");
          value(sb, depth + 1);
        }
        sb.append('}');
      }
    }
  }

  private byte[] bytes(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) random.nextInt(256);
    }
    return b;
  }

  private String text(int n) {
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      int kind = random.nextInt(10);
      sb.append(
          kind < 6
              ? (char) (32 + random.nextInt(95))
              : kind < 8
                  ? JSON_CHARS.charAt(random.nextInt(JSON_CHARS.length()))
                  : (char) random.nextInt(0xD7FF));
    }
    return sb.toString();
  }

  private String string(int n) {
    return text(n);
  }

  private static String escape(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 32) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
