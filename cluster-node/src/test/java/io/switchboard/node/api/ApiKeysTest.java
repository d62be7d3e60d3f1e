package io.switchboard.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.switchboard.node.stream.Socket;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.Test;

/** The API key check and the one mapping of failures to gRPC and HTTP statuses. */
class ApiKeysTest {

  @Test
  void onlyAConfiguredBearerKeyIsAccepted() {
    ApiKeys keys = new ApiKeys(List.of("old-key", "new-key"));
    assertTrue(keys.configured());
    assertEquals(Optional.empty(), keys.refusal(Optional.of("Bearer new-key")));
    assertEquals(Optional.empty(), keys.refusal(Optional.of("bearer old-key")));
    assertTrue(keys.refusal(Optional.of("Bearer new-ke")).isPresent());
    assertTrue(keys.refusal(Optional.of("Bearer new-key2")).isPresent());
    assertTrue(keys.refusal(Optional.of("new-key")).isPresent(), "the Bearer scheme is needed");
    assertTrue(keys.refusal(Optional.empty()).isPresent());
  }

  @Test
  void withoutKeysEverythingIsRefused() {
    ApiKeys none = new ApiKeys(List.of());
    assertFalse(none.configured());
    assertTrue(none.refusal(Optional.of("Bearer ")).orElseThrow().contains("no API key"));
    assertTrue(none.refusal(Optional.of("Bearer anything")).isPresent());
  }

  @Test
  void failuresMapToOneStatusEach() {
    assertEquals(code(new TimeoutException()), Status.Code.UNAVAILABLE);
    assertEquals(code(new CompletionException(new TimeoutException())), Status.Code.UNAVAILABLE);
    assertEquals(code(err("session not found")), Status.Code.NOT_FOUND);
    assertEquals(code(err(Socket.ASK_NOT_ATTACHED)), Status.Code.UNAVAILABLE);
    assertEquals(code(err(Socket.ASK_CLIENT_GONE)), Status.Code.UNAVAILABLE);
    assertEquals(code(err(Socket.ASK_TOO_MANY)), Status.Code.RESOURCE_EXHAUSTED);
    assertEquals(code(err("left the group while joining")), Status.Code.FAILED_PRECONDITION);
    assertEquals(code(new IllegalArgumentException("bad")), Status.Code.INVALID_ARGUMENT);
    assertEquals(code(new RuntimeException("boom")), Status.Code.INTERNAL);
    assertEquals(400, ApiErrors.httpStatus(Status.Code.INVALID_ARGUMENT).intValue());
    assertEquals(401, ApiErrors.httpStatus(Status.Code.UNAUTHENTICATED).intValue());
    assertEquals(404, ApiErrors.httpStatus(Status.Code.NOT_FOUND).intValue());
    assertEquals(409, ApiErrors.httpStatus(Status.Code.FAILED_PRECONDITION).intValue());
    assertEquals(429, ApiErrors.httpStatus(Status.Code.RESOURCE_EXHAUSTED).intValue());
    assertEquals(503, ApiErrors.httpStatus(Status.Code.UNAVAILABLE).intValue());
    assertEquals(504, ApiErrors.httpStatus(Status.Code.DEADLINE_EXCEEDED).intValue());
  }

  private static Throwable err(String message) {
    return StatusReply.error(message).getError();
  }

  private static Status.Code code(Throwable failure) {
    return ApiErrors.from(failure).status().getCode();
  }
}
