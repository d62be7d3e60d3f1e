package io.switchboard.node.edge;

import io.switchboard.node.backend.Backends;
import io.switchboard.node.config.BackendSettings;
import io.switchboard.node.config.EdgeSettings;
import io.switchboard.node.config.LongPollSettings;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.ErrorCode;
import io.switchboard.protocol.v1.LongPollRequest;
import io.switchboard.protocol.v1.ServerFrame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The timings and canned answers of long-poll calls: how long a poll is held and a send waits, and
 * the batches that refuse a call (session not found, credentials needed, retry). Immutable.
 */
final class LongPollCalls {

  /** Frames one long-poll socket may have queued towards its connection actor. */
  static final int INBOUND_BUFFER = 1024;

  /** What a send waits beyond the timeout of the slowest answer it expects. */
  private static final Duration MARGIN = Duration.ofSeconds(2);

  private final ActorSystem<?> system;
  private final EdgeSettings edge;
  private final LongPollSettings settings;
  private final BackendSettings backend;

  LongPollCalls(ActorSystem<?> system, EdgeSettings edge, LongPollSettings settings) {
    this.system = system;
    this.edge = edge;
    this.settings = settings;
    this.backend = Backends.get(system).settings();
  }

  /** The outbound side of a new long-poll socket. */
  LongPollTransport newTransport() {
    return new LongPollTransport(
        system.scheduler(),
        system.executionContext(),
        edge.outboundBuffer(),
        settings.maxBatch(),
        settings.linger());
  }

  /** How long a poll may be held: its wait_ms, at most the hold time. */
  Duration wait(LongPollRequest request) {
    long waitMs = request.getWaitMs();
    Duration hold = settings.hold();
    return waitMs > 0 && waitMs < hold.toMillis() ? Duration.ofMillis(waitMs) : hold;
  }

  /** How long a send of {@code frames} waits for their answers: its slowest one's timeout. */
  Duration sendDeadline(List<ClientFrame> frames) {
    Duration longest = edge.askTimeout();
    for (ClientFrame frame : frames) {
      if (frame.hasRequest()) {
        Duration timeout = backend.timeoutFor(frame.getRequest().getTimeoutMs());
        longest = timeout.compareTo(longest) > 0 ? timeout : longest;
      }
    }
    return longest.plus(MARGIN);
  }

  /** How long a call may take at the node that serves it. */
  Duration deadline(LongPollSessions.Call call) {
    return call.send() ? sendDeadline(call.request().getFramesList()) : wait(call.request());
  }

  /** The longest any call may take (the HTTP request timeout of the routes, less a margin). */
  Duration longest() {
    Duration send = backend.timeoutFor(Long.MAX_VALUE).plus(edge.askTimeout()).plus(MARGIN);
    return send.compareTo(settings.hold()) > 0 ? send : settings.hold();
  }

  /** Unknown session or wrong resume token: Error SESSION_NOT_FOUND, and Close 3505 on a poll. */
  static List<ServerFrame> notFound(boolean send) {
    ServerFrame error = ServerFrames.error(0, ErrorCode.SESSION_NOT_FOUND, "session not found");
    return send
        ? List.of(error)
        : List.of(error, ServerFrames.close(CloseCode.SESSION_ENDED.code(), "session not found"));
  }

  /**
   * This node would need to resume the session on a socket of its own and does not know who its
   * client is (its entity restarted since the open): the client opens again with Resume and its
   * credentials, as after an expired token.
   */
  static List<ServerFrame> credentialsNeeded() {
    String reason = "credentials needed: open again with Resume";
    return List.of(
        ServerFrames.error(0, ErrorCode.UNAUTHORIZED, reason),
        ServerFrames.close(CloseCode.TOKEN_EXPIRED.code(), reason));
  }

  /** No answer in time: an empty poll (poll again), or UNAVAILABLE for each frame of a send. */
  static List<ServerFrame> retry(LongPollSessions.Call call) {
    return call.send() ? unavailable(call.request().getFramesList(), false) : List.of();
  }

  /** UNAVAILABLE for each frame with an id; {@code closes} adds a resumable Close. */
  static List<ServerFrame> unavailable(List<ClientFrame> frames, boolean closes) {
    List<ServerFrame> errors = new ArrayList<>();
    for (ClientFrame frame : frames) {
      if (frame.getId() != 0) {
        errors.add(ServerFrames.error(frame.getId(), ErrorCode.UNAVAILABLE, "no answer, retry"));
      }
    }
    if (closes) {
      errors.add(ServerFrames.close(CloseCode.INTERNAL_ERROR.code(), "unavailable, retry"));
    }
    return errors;
  }

  /**
   * The answers to a Connect or Resume that did not connect, ending with the Close the client
   * obeys: the connection's own, or one that fits the error (a Resume the session refused: 3505).
   */
  static List<ServerFrame> refusal(List<ServerFrame> answers, boolean resume) {
    if (answers.stream().anyMatch(ServerFrame::hasClose)) {
      return answers;
    }
    ErrorCode code =
        answers.stream()
            .filter(ServerFrame::hasError)
            .map(f -> f.getError().getCode())
            .findFirst()
            .orElse(ErrorCode.UNAVAILABLE);
    CloseCode close =
        switch (code) {
          case SESSION_NOT_FOUND -> CloseCode.SESSION_ENDED;
          case UNAUTHORIZED -> CloseCode.UNAUTHORIZED;
          case INVALID_ARGUMENT, ALREADY_CONNECTED -> CloseCode.PROTOCOL_ERROR;
          default -> CloseCode.INTERNAL_ERROR;
        };
    List<ServerFrame> frames = new ArrayList<>();
    for (ServerFrame answer : answers) {
      // A Resume this node made for a poll carries an id of the node's own, not the client's.
      frames.add(resume ? answer.toBuilder().setId(0).build() : answer);
    }
    if (frames.isEmpty()) {
      frames.add(ServerFrames.error(0, ErrorCode.UNAVAILABLE, "session unavailable, retry"));
    }
    frames.add(ServerFrames.close(close.code(), resume ? "session not resumed" : "not connected"));
    return frames;
  }

  /** A refusal as a poll (with its Close) or a send (its errors only) answers it. */
  static List<ServerFrame> forCall(List<ServerFrame> refusal, boolean send) {
    return send ? refusal.stream().filter(f -> !f.hasClose()).toList() : refusal;
  }

  static CompletionStage<List<ServerFrame>> completed(List<ServerFrame> frames) {
    return CompletableFuture.completedFuture(frames);
  }
}
