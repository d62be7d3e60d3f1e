package io.switchboard.node.api;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.switchboard.node.TestNode;
import io.switchboard.node.WsClient;
import io.switchboard.protocol.v1.GatewayClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Date;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.GrpcClientSettings;

/**
 * Clients of a test node's backend API and browsers with tokens, for the API's end-to-end tests.
 */
final class ApiTestKit {
  private ApiTestKit() {}

  /** HMAC secret of the test nodes' JWT verification (32 bytes or more). */
  static final String SECRET = "switchboard-api-tests-hmac-secret-0123456789";

  /** The node settings the API tests share: JWT auth with {@link #SECRET}, the given API key. */
  static String nodeConfig(String apiKey) {
    return """
        switchboard.api.keys = ["%s"]
        switchboard.auth.mode = jwt
        switchboard.auth.hmac-secret = "%s"
        switchboard.edge.client-publish = any
        switchboard.edge.frames-per-second = 10000
        switchboard.edge.frame-burst = 10000
        """
        .formatted(apiKey, SECRET);
  }

  /** A gRPC client over a real socket; with {@code apiKey} null it sends no key at all. */
  static GatewayClient grpc(ActorSystem<?> system, int port, String apiKey) {
    GrpcClientSettings settings =
        GrpcClientSettings.connectToServiceAt("127.0.0.1", port, system)
            .withTls(false)
            .withDeadline(Duration.ofSeconds(20));
    if (apiKey != null) {
      settings = settings.withCallCredentials(bearer(apiKey));
    }
    return GatewayClient.create(settings, system);
  }

  private static CallCredentials bearer(String apiKey) {
    Metadata.Key<String> authorization =
        Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(
          RequestInfo requestInfo, Executor executor, MetadataApplier applier) {
        Metadata headers = new Metadata();
        headers.put(authorization, "Bearer " + apiKey);
        applier.apply(headers);
      }
    };
  }

  /** The result of a call, or the failure's gRPC status code. */
  static <T> T await(CompletionStage<T> call) {
    try {
      return call.toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e);
    } catch (InterruptedException | TimeoutException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The gRPC status code a call failed with. */
  static Status.Code failureOf(CompletionStage<?> call) {
    try {
      call.toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException status) {
        return status.getStatus().getCode();
      }
      throw new IllegalStateException("not a gRPC status", e.getCause());
    } catch (InterruptedException | TimeoutException e) {
      throw new IllegalStateException(e);
    }
    throw new AssertionError("the call succeeded");
  }

  /** A JWT for {@code userId}, valid for an hour, allowed to join every group. */
  static String token(String userId) {
    try {
      JWTClaimsSet claims =
          new JWTClaimsSet.Builder()
              .subject(userId)
              .expirationTime(new Date(System.currentTimeMillis() + 3_600_000))
              .claim("sb_join", "*")
              .claim("sb_publish", "*")
              .build();
      SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
      jwt.sign(new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8)));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A browser of {@code userId} (binary frames), not yet connected. */
  static WsClient browser(TestNode node, String userId) {
    return WsClient.open(URI.create(node.wsUri() + "?token=" + token(userId)), false);
  }

  /** {@code POST /api/<call>} with a JSON body; {@code apiKey} null sends no key. */
  static HttpResponse<String> post(TestNode node, String call, String json, String apiKey) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/api/" + call))
            .timeout(Duration.ofSeconds(20))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json));
    if (apiKey != null) {
      request.header("authorization", "Bearer " + apiKey);
    }
    try {
      // A client per call: a pooled connection could outlive its node, whose port a later node
      // of the same JVM may reuse.
      HttpClient http =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(5))
              .build();
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
