package io.switchboard.persistence.redis;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.concurrent.Future;
import scala.jdk.javaapi.FutureConverters;

/**
 * Bounds every Redis call of one plugin by the hard operation timeout and turns failures into a
 * {@link RedisPersistenceException} whose message says what failed and where Redis is. Logs once
 * when Redis becomes unavailable and once when it answers again, instead of once per failure.
 * Thread-safe.
 */
final class RedisCalls {

  private static final Logger log = LoggerFactory.getLogger(RedisCalls.class);

  private final String pluginName;
  private final RedisSettings settings;
  private final AtomicBoolean available = new AtomicBoolean(true);

  RedisCalls(String pluginName, RedisSettings settings) {
    this.pluginName = pluginName;
    this.settings = settings;
  }

  /**
   * The outcome of {@code call}, or a failure once the operation timeout has passed. The timeout
   * only abandons the wait: a write may still reach Redis afterwards, which is why the plugins
   * treat such a write as failed, never as rejected.
   */
  <T> CompletableFuture<T> bounded(CompletionStage<T> call, String operation) {
    return bounded(call, () -> operation);
  }

  /** As {@link #bounded(CompletionStage, String)}, describing the operation only on failure. */
  <T> CompletableFuture<T> bounded(CompletionStage<T> call, Supplier<String> operation) {
    long timeoutMillis = settings.operationTimeout().toMillis();
    return call.toCompletableFuture()
        .thenApply(result -> result) // a copy, so the timeout never completes Redisson's future
        .orTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .handle(
            (result, error) -> {
              if (error == null) {
                if (available.compareAndSet(false, true)) {
                  log.info("{}: {} answers again", pluginName, settings.address());
                }
                return result;
              }
              RedisPersistenceException failure =
                  failure(unwrap(error), operation.get(), timeoutMillis);
              if (available.compareAndSet(true, false)) {
                log.warn("{}", failure.getMessage());
              }
              throw failure;
            });
  }

  private RedisPersistenceException failure(Throwable cause, String operation, long timeoutMillis) {
    if (cause instanceof RedisPersistenceException e) return e;
    String reason =
        cause instanceof TimeoutException
            ? "did not answer within " + timeoutMillis + " ms"
            : "is unreachable or failing (" + summary(cause) + ")";
    return new RedisPersistenceException(
        pluginName + ": " + operation + " failed: " + settings.address() + " " + reason, cause);
  }

  /**
   * The Scala future Pekko's plugin API wants, failed with the cause itself rather than the {@link
   * CompletionException} that dependent Java stages wrap it in.
   */
  static <T> Future<T> toScala(CompletionStage<T> stage) {
    CompletableFuture<T> unwrapped = new CompletableFuture<>();
    stage.whenComplete(
        (result, error) -> {
          if (error == null) unwrapped.complete(result);
          else unwrapped.completeExceptionally(unwrap(error));
        });
    return FutureConverters.asScala(unwrapped);
  }

  /** Exception type and the first line of its message, short: Redisson's can hold a script. */
  private static String summary(Throwable cause) {
    String message = cause.getMessage() == null ? "" : cause.getMessage();
    int end = message.indexOf('\n');
    if (end >= 0) message = message.substring(0, end);
    if (message.length() > 200) message = message.substring(0, 200) + "...";
    return cause.getClass().getSimpleName() + ": " + message;
  }

  static Throwable unwrap(Throwable error) {
    Throwable t = error;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
