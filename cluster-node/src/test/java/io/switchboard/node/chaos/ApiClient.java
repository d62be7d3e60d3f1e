package io.switchboard.node.chaos;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import io.switchboard.protocol.v1.PublishRequest;
import io.switchboard.protocol.v1.PublishResponse;
import io.switchboard.protocol.v1.SendRequest;
import io.switchboard.protocol.v1.SendResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * A backend calling the HTTP/JSON API ({@code POST /api/<Call>}) of whichever node is up. An answer
 * of 200 is an acknowledgement: the message is journaled and must reach its recipients.
 */
final class ApiClient {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final Supplier<Integer> httpPort;
  private final String key;

  ApiClient(Supplier<Integer> httpPort, String key) {
    this.httpPort = httpPort;
    this.key = key;
  }

  /** The offset of the acknowledged publication; empty when refused or unanswered. */
  CompletableFuture<OptionalLong> publish(String group, String payload) {
    PublishRequest request =
        PublishRequest.newBuilder()
            .setGroup(group)
            .setPayload(ByteString.copyFromUtf8(payload))
            .build();
    return call("Publish", print(request))
        .thenApply(
            body -> {
              if (body == null) {
                return OptionalLong.empty();
              }
              PublishResponse.Builder response = PublishResponse.newBuilder();
              merge(body, response);
              return OptionalLong.of(response.getOffset());
            });
  }

  /** The inbox offset of the acknowledged direct message; empty when refused or unanswered. */
  CompletableFuture<OptionalLong> send(String sessionId, String payload) {
    SendRequest request =
        SendRequest.newBuilder()
            .setSessionId(sessionId)
            .setPayload(ByteString.copyFromUtf8(payload))
            .build();
    return call("Send", print(request))
        .thenApply(
            body -> {
              if (body == null) {
                return OptionalLong.empty();
              }
              SendResponse.Builder response = SendResponse.newBuilder();
              merge(body, response);
              return response.getSessionsCount() == 1
                  ? OptionalLong.of(response.getSessions(0).getOffset())
                  : OptionalLong.empty();
            });
  }

  private CompletableFuture<String> call(String method, String json) {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort.get() + "/api/" + method))
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build();
    return HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .handle((r, failure) -> failure == null && r.statusCode() == 200 ? r.body() : null);
  }

  private static String print(com.google.protobuf.MessageOrBuilder message) {
    try {
      return JsonFormat.printer().print(message);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void merge(String json, com.google.protobuf.Message.Builder builder) {
    try {
      JsonFormat.parser().ignoringUnknownFields().merge(json, builder);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }
}
