package io.switchboard.protocol;

import java.util.Optional;

/**
 * Why a node closes a connection, and what the client should do next. Numbered in documented ranges
 * (see protocol/README.md):
 *
 * <ul>
 *   <li>1000: normal closure, the session is over;
 *   <li>3000–3499: reconnect (with backoff) and resume the session with its cursors;
 *   <li>3500–3999: do not reconnect automatically;
 *   <li>4000–4999: application-defined (a backend's {@code Disconnect}); not resumed.
 * </ul>
 *
 * <p>The code travels in a {@code Close} frame sent right before the socket closes, so every
 * transport and encoding sees it alike.
 */
public enum CloseCode {
  /** The session ended cleanly (client Close, or session over). */
  NORMAL(1000),
  /** The node is leaving the cluster; reconnect to another node and resume. */
  SHUTTING_DOWN(3000),
  /** The client did not read fast enough and the outbound buffer filled; resume. */
  SLOW_CONSUMER(3001),
  /** Nothing was heard from the client within the heartbeat timeout; resume. */
  HEARTBEAT_TIMEOUT(3002),
  /** The node failed unexpectedly while serving this connection; resume. */
  INTERNAL_ERROR(3003),
  /** The client kept sending faster than its frame rate limit; resume after a backoff. */
  TOO_MANY_FRAMES(3004),
  /** No Connect or Resume arrived in time after the socket opened; reconnect. */
  CONNECT_TIMEOUT(3005),
  /** The connection's token expired without a Refresh; resume with a fresh token. */
  TOKEN_EXPIRED(3006),
  /** The client broke the protocol beyond repair; fix the client. */
  PROTOCOL_ERROR(3500),
  /** The credentials are missing or invalid. */
  UNAUTHORIZED(3501),
  /** The credentials are valid but not allowed to connect here. */
  FORBIDDEN(3502),
  /** A frame exceeded the node's frame size limit. */
  FRAME_TOO_LARGE(3503),
  /** Another connection resumed this session; this one must not fight back. */
  SESSION_REPLACED(3504),
  /** The session was ended by the cluster (expired, or disconnected by a backend). */
  SESSION_ENDED(3505),
  /**
   * The upstream WebSocket of a bridge route stayed unreachable for the route's retry window (or
   * refused the connection for good); the session is over.
   */
  UPSTREAM_LOST(3506);

  /** First code of the resume-and-reconnect range. */
  public static final int RESUMABLE_MIN = 3000;

  /** Last code of the resume-and-reconnect range. */
  public static final int RESUMABLE_MAX = 3499;

  /** First code an application (a backend's Disconnect) may use. */
  public static final int APPLICATION_MIN = 4000;

  /** Last code an application may use. */
  public static final int APPLICATION_MAX = 4999;

  private final int code;

  CloseCode(int code) {
    this.code = code;
  }

  /** The numeric code, as sent in the {@code Close} frame and the WebSocket close status. */
  public int code() {
    return code;
  }

  /** Whether a client receiving this code should reconnect and resume its session. */
  public boolean resumable() {
    return isResumable(code);
  }

  /** Whether any numeric close code means "reconnect and resume". */
  public static boolean isResumable(int code) {
    return code >= RESUMABLE_MIN && code <= RESUMABLE_MAX;
  }

  /** Whether a code is in the application range a backend may choose from. */
  public static boolean isApplication(int code) {
    return code >= APPLICATION_MIN && code <= APPLICATION_MAX;
  }

  /** The named code with this number, if any (application codes have no name). */
  public static Optional<CloseCode> of(int code) {
    for (CloseCode c : values()) {
      if (c.code == code) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }
}
