package io.switchboard.node.api;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import io.switchboard.node.config.ApiSettings;
import io.switchboard.protocol.ProtoJson;
import io.switchboard.protocol.v1.AskRequest;
import io.switchboard.protocol.v1.DisconnectRequest;
import io.switchboard.protocol.v1.HistoryRequest;
import io.switchboard.protocol.v1.InfoRequest;
import io.switchboard.protocol.v1.JoinRequest;
import io.switchboard.protocol.v1.LeaveRequest;
import io.switchboard.protocol.v1.PresenceRequest;
import io.switchboard.protocol.v1.PublishRequest;
import io.switchboard.protocol.v1.SendRequest;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.grpc.javadsl.MetadataBuilder;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.MalformedRequestContentRejection;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;

/**
 * The backend API as HTTP/JSON for curl users: {@code POST /api/<Call>} with the request message in
 * the canonical Protobuf JSON mapping, answered with the response message (200) or with {@code
 * {"code": "<gRPC status>", "message": "..."}} and the HTTP status {@link ApiErrors} gives it. The
 * same {@link GatewayServiceImpl} serves gRPC; the {@code authorization} header is its metadata.
 */
public final class ApiRoutes {
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().omittingInsignificantWhitespace();

  private ApiRoutes() {}

  /** One unary call: parse the JSON body, call the service. */
  private interface JsonCall {
    CompletionStage<? extends Message> run(String json, Metadata metadata)
        throws InvalidProtocolBufferException;
  }

  /** The routes of {@code POST /api/<Call>}. */
  public static Route create(GatewayServiceImpl gateway, ApiSettings settings) {
    Map<String, JsonCall> calls = new TreeMap<>();
    calls.put(
        "Publish", (j, m) -> gateway.publish(parse(j, PublishRequest.getDefaultInstance()), m));
    calls.put("Send", (j, m) -> gateway.send(parse(j, SendRequest.getDefaultInstance()), m));
    calls.put("Join", (j, m) -> gateway.join(parse(j, JoinRequest.getDefaultInstance()), m));
    calls.put("Leave", (j, m) -> gateway.leave(parse(j, LeaveRequest.getDefaultInstance()), m));
    calls.put(
        "Disconnect",
        (j, m) -> gateway.disconnect(parse(j, DisconnectRequest.getDefaultInstance()), m));
    calls.put(
        "Presence", (j, m) -> gateway.presence(parse(j, PresenceRequest.getDefaultInstance()), m));
    calls.put(
        "History", (j, m) -> gateway.history(parse(j, HistoryRequest.getDefaultInstance()), m));
    calls.put("Ask", (j, m) -> gateway.ask(parse(j, AskRequest.getDefaultInstance()), m));
    calls.put("Info", (j, m) -> gateway.info(parse(j, InfoRequest.getDefaultInstance()), m));
    return Directives.pathPrefix(
        "api",
        () ->
            Directives.path(
                PathMatchers.segment(),
                name ->
                    Directives.post(
                        () ->
                            Directives.handleRejections(
                                tooLarge(settings.maxJsonBody()),
                                () ->
                                    Directives.withSizeLimit(
                                        settings.maxJsonBody(),
                                        () ->
                                            Directives.extractRequest(
                                                request ->
                                                    Directives.entity(
                                                        Unmarshaller.entityToString(),
                                                        body ->
                                                            Directives.completeWithFuture(
                                                                respond(
                                                                    calls, name, body,
                                                                    request)))))))));
  }

  /**
   * A body over the limit gets the API's JSON error (RESOURCE_EXHAUSTED, HTTP 413), like every
   * other refusal, instead of Pekko HTTP's plain-text one.
   */
  private static RejectionHandler tooLarge(int limit) {
    return RejectionHandler.newBuilder()
        .handle(
            MalformedRequestContentRejection.class,
            rejection -> {
              for (Throwable t = rejection.getCause(); t != null; t = t.getCause()) {
                if (t instanceof EntityStreamSizeException) {
                  return Directives.complete(
                      error(ApiErrors.tooLarge("request body exceeds " + limit + " bytes"))
                          .withStatus(StatusCodes.PAYLOAD_TOO_LARGE));
                }
              }
              return Directives.reject(rejection);
            })
        .build();
  }

  private static CompletionStage<HttpResponse> respond(
      Map<String, JsonCall> calls, String name, String body, HttpRequest request) {
    JsonCall call = calls.get(name);
    if (call == null) {
      GrpcServiceException missing =
          name.equals("Serve")
              ? ApiErrors.unimplemented("Serve is a bidirectional stream: use a gRPC client")
              : ApiErrors.notFound("no call " + name + "; calls: " + calls.keySet());
      return CompletableFuture.completedFuture(error(missing));
    }
    Metadata metadata = MetadataBuilder.fromHeaders(request.getHeaders());
    CompletionStage<? extends Message> result;
    try {
      result = call.run(body, metadata);
    } catch (InvalidProtocolBufferException | RuntimeException malformed) {
      return CompletableFuture.completedFuture(
          error(ApiErrors.invalid("malformed JSON for " + name + ": " + malformed.getMessage())));
    }
    return result.handle(
        (message, failure) -> failure == null ? ok(message) : error(ApiErrors.from(failure)));
  }

  @SuppressWarnings("unchecked")
  private static <T extends Message> T parse(String json, T prototype)
      throws InvalidProtocolBufferException {
    Message.Builder builder = prototype.newBuilderForType();
    if (!json.isBlank()) {
      ProtoJson.merge(json, builder, false);
    }
    return (T) builder.build();
  }

  private static HttpResponse ok(Message message) {
    try {
      return HttpResponse.create()
          .withEntity(ContentTypes.APPLICATION_JSON, PRINTER.print(message));
    } catch (InvalidProtocolBufferException e) {
      return error(ApiErrors.from(e));
    }
  }

  private static HttpResponse error(GrpcServiceException failure) {
    Status status = failure.status();
    Struct body =
        Struct.newBuilder()
            .putFields("code", Value.newBuilder().setStringValue(status.getCode().name()).build())
            .putFields(
                "message",
                Value.newBuilder().setStringValue(String.valueOf(status.getDescription())).build())
            .build();
    String json;
    try {
      json = PRINTER.print(body);
    } catch (InvalidProtocolBufferException e) {
      json = "{\"code\":\"INTERNAL\"}";
    }
    HttpResponse response =
        HttpResponse.create()
            .withStatus(ApiErrors.httpStatus(status.getCode()))
            .withEntity(ContentTypes.APPLICATION_JSON, json);
    return status.getCode() == Status.Code.UNAUTHENTICATED
        ? response.addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"switchboard\""))
        : response;
  }
}
