package io.switchboard.node.api;

import io.grpc.Status;
import io.switchboard.node.stream.Socket;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.pattern.StatusReply;

/**
 * The one mapping of failures to gRPC status codes (and of those to HTTP statuses for the JSON
 * API): validation → INVALID_ARGUMENT (400), no or wrong key → UNAUTHENTICATED (401), unknown
 * session → NOT_FOUND (404), wrong state → FAILED_PRECONDITION (409), a limit → RESOURCE_EXHAUSTED
 * (429), an entity or client that did not answer in time or went away → UNAVAILABLE (503), a
 * browser that did not answer an Ask → DEADLINE_EXCEEDED (504).
 */
public final class ApiErrors {
  private ApiErrors() {}

  /** A field is missing or malformed. */
  public static GrpcServiceException invalid(String message) {
    return status(Status.INVALID_ARGUMENT, message);
  }

  /** No or wrong API key. */
  public static GrpcServiceException unauthenticated(String message) {
    return status(Status.UNAUTHENTICATED, message);
  }

  /** The thing named does not exist. */
  public static GrpcServiceException notFound(String message) {
    return status(Status.NOT_FOUND, message);
  }

  /** The browser did not answer in time. */
  public static GrpcServiceException deadline(String message) {
    return status(Status.DEADLINE_EXCEEDED, message);
  }

  /** A request larger than the node takes. */
  public static GrpcServiceException tooLarge(String message) {
    return status(Status.RESOURCE_EXHAUSTED, message);
  }

  /** A call that exists only on gRPC. */
  public static GrpcServiceException unimplemented(String message) {
    return status(Status.UNIMPLEMENTED, message);
  }

  /** The status for any failure of a call. */
  public static GrpcServiceException from(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof GrpcServiceException grpc) {
      return grpc;
    }
    if (cause instanceof TimeoutException) {
      return status(Status.UNAVAILABLE, "the cluster did not answer in time; retry");
    }
    if (cause instanceof StatusReply.ErrorMessage refused) {
      return fromEntity(refused.getMessage());
    }
    if (cause instanceof IllegalArgumentException) {
      return invalid(cause.getMessage());
    }
    if (cause instanceof IllegalStateException) {
      return status(Status.RESOURCE_EXHAUSTED, cause.getMessage());
    }
    return status(Status.INTERNAL, "unexpected failure: " + cause);
  }

  /** An entity's or a socket's refusal (a StatusReply error message). */
  static GrpcServiceException fromEntity(String message) {
    if (message.contains("not found")) {
      return notFound(message);
    }
    if (message.equals(Socket.ASK_TOO_MANY)) {
      return status(Status.RESOURCE_EXHAUSTED, message);
    }
    if (message.equals(Socket.ASK_NOT_ATTACHED) || message.equals(Socket.ASK_CLIENT_GONE)) {
      return status(Status.UNAVAILABLE, message);
    }
    if (message.contains("while joining")) {
      return status(Status.FAILED_PRECONDITION, message);
    }
    return status(Status.UNAVAILABLE, message + "; retry");
  }

  /** The HTTP status of the JSON API for a gRPC status code. */
  public static StatusCode httpStatus(Status.Code code) {
    return switch (code) {
      case OK -> StatusCodes.OK;
      case INVALID_ARGUMENT, OUT_OF_RANGE -> StatusCodes.BAD_REQUEST;
      case UNAUTHENTICATED -> StatusCodes.UNAUTHORIZED;
      case PERMISSION_DENIED -> StatusCodes.FORBIDDEN;
      case NOT_FOUND -> StatusCodes.NOT_FOUND;
      case ALREADY_EXISTS, ABORTED, FAILED_PRECONDITION -> StatusCodes.CONFLICT;
      case RESOURCE_EXHAUSTED -> StatusCodes.TOO_MANY_REQUESTS;
      case UNIMPLEMENTED -> StatusCodes.NOT_IMPLEMENTED;
      case UNAVAILABLE -> StatusCodes.SERVICE_UNAVAILABLE;
      case DEADLINE_EXCEEDED -> StatusCodes.GATEWAY_TIMEOUT;
      default -> StatusCodes.INTERNAL_SERVER_ERROR;
    };
  }

  static Throwable unwrap(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private static GrpcServiceException status(Status status, String message) {
    return new GrpcServiceException(status.withDescription(message));
  }
}
