package io.switchboard.node.auth;

import io.switchboard.node.config.LimitSettings;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.ErrorCode;
import java.util.Optional;

/**
 * Limits inside a frame, below the frame size limit the decoder enforces: the payload or body of
 * Publish, Message, Request and Reply ({@code FRAME_TOO_LARGE}, the connection stays open), the
 * cursors of Ack and Resume, the headers of Message, Request and Reply, and the token of Connect,
 * Resume and Refresh ({@code LIMIT_EXCEEDED}). Stateless and thread-safe.
 */
public final class SizeLimitInterceptor implements FrameInterceptor {
  private final LimitSettings limits;

  public SizeLimitInterceptor(LimitSettings limits) {
    this.limits = limits;
  }

  @Override
  public Optional<Rejection> check(Identity identity, ClientFrame frame) {
    return switch (frame.getKindCase()) {
      case PUBLISH -> payload(frame.getPublish().getPayload().size());
      case MESSAGE ->
          payload(frame.getMessage().getBody().size())
              .or(() -> headers(frame.getMessage().getHeadersCount()));
      case REQUEST ->
          payload(frame.getRequest().getBody().size())
              .or(() -> headers(frame.getRequest().getHeadersCount()));
      case REPLY ->
          payload(frame.getReply().getBody().size())
              .or(() -> headers(frame.getReply().getHeadersCount()));
      case ACK -> cursors(frame.getAck().getCursorsCount());
      case RESUME ->
          cursors(frame.getResume().getCursorsCount())
              .or(() -> token(frame.getResume().getToken().length()));
      case CONNECT -> token(frame.getConnect().getToken().length());
      case REFRESH -> token(frame.getRefresh().getToken().length());
      default -> Optional.empty();
    };
  }

  private Optional<Rejection> payload(int size) {
    return size > limits.maxPayloadSize()
        ? Optional.of(
            Rejection.refuse(
                ErrorCode.FRAME_TOO_LARGE, "payload exceeds " + limits.maxPayloadSize() + " bytes"))
        : Optional.empty();
  }

  private Optional<Rejection> headers(int count) {
    return count > limits.maxHeaders()
        ? Optional.of(
            Rejection.refuse(
                ErrorCode.LIMIT_EXCEEDED, "more than " + limits.maxHeaders() + " headers"))
        : Optional.empty();
  }

  private Optional<Rejection> cursors(int count) {
    return count > limits.maxCursors()
        ? Optional.of(
            Rejection.refuse(
                ErrorCode.LIMIT_EXCEEDED, "more than " + limits.maxCursors() + " cursors"))
        : Optional.empty();
  }

  private Optional<Rejection> token(int length) {
    return length > limits.maxTokenSize()
        ? Optional.of(
            Rejection.refuse(
                ErrorCode.LIMIT_EXCEEDED, "token longer than " + limits.maxTokenSize()))
        : Optional.empty();
  }
}
