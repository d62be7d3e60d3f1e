package io.switchboard.node.auth;

import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.ErrorCode;
import java.util.Optional;

/**
 * Why a frame was refused: the {@code Error} the client gets (with the refused frame's id), and
 * whether the connection closes after it.
 *
 * @param code the error code sent to the client
 * @param message a short reason sent to the client; never a secret
 * @param close the close code when the connection must close, {@code null} when it stays open
 */
public record Rejection(ErrorCode code, String message, CloseCode close) {

  /** Longest message sent to a client: it may quote client input. */
  public static final int MAX_MESSAGE = 200;

  /** A rejection; the message is cut to {@link #MAX_MESSAGE} characters. */
  public Rejection {
    message =
        message == null
            ? ""
            : message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE) + "…" : message;
  }

  /** Refuses the frame; the connection stays open. */
  public static Rejection refuse(ErrorCode code, String message) {
    return new Rejection(code, message, null);
  }

  /** Refuses the frame and closes the connection with {@code close}. */
  public static Rejection refuseAndClose(ErrorCode code, String message, CloseCode close) {
    return new Rejection(code, message, close);
  }

  /** The close code, when the connection must close. */
  public Optional<CloseCode> closes() {
    return Optional.ofNullable(close);
  }
}
