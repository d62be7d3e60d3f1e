package io.switchboard.persistence.embedded;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Waits for a child process to become ready: the waiting thread blocks on one future that is
 * completed by whichever comes first — the readiness check passing (run on a timer, since a process
 * that starts has nothing to signal with), the process exiting, or the timeout. So an exit is seen
 * at once, and readiness within one check interval.
 */
public final class ProcessReadiness {

  /** A check's verdict: ready, or not yet with the reason (for the timeout's message). */
  public record Check(boolean ready, String reason) {
    public static Check ok() {
      return new Check(true, "ready");
    }

    public static Check notYet(String reason) {
      return new Check(false, reason);
    }
  }

  /** Why the process did not become ready. */
  public static final class NotReady extends Exception {
    private static final long serialVersionUID = 1L;

    NotReady(String message) {
      super(message);
    }
  }

  private ProcessReadiness() {}

  /**
   * Returns once {@code check} passes; throws {@link NotReady} when {@code process} exits first or
   * {@code timeout} passes, naming {@code what} and the check's last reason.
   */
  public static void await(
      String what, Process process, Duration timeout, Duration every, Supplier<Check> check)
      throws NotReady, InterruptedException {
    CompletableFuture<Void> ready = new CompletableFuture<>();
    String[] lastReason = {"not checked yet"};
    process
        .onExit()
        .thenAccept(
            p ->
                ready.completeExceptionally(
                    new NotReady(what + " exited at start with code " + p.exitValue())));
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "readiness-" + what);
              t.setDaemon(true);
              return t;
            });
    timer.scheduleWithFixedDelay(
        () -> {
          Check verdict = Optional.ofNullable(safely(check)).orElse(Check.notYet("no verdict"));
          lastReason[0] = verdict.reason();
          if (verdict.ready()) {
            ready.complete(null);
          }
        },
        0,
        every.toMillis(),
        TimeUnit.MILLISECONDS);
    try {
      ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new NotReady(what + ": not ready within " + timeout + " (" + lastReason[0] + ")");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof NotReady notReady
          ? notReady
          : new NotReady(what + ": " + e.getCause());
    } finally {
      timer.shutdownNow();
    }
  }

  /** A check that passes when {@code url} answers HTTP 200 (a health endpoint). */
  public static Supplier<Check> httpOk(String url) {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build();
    return () -> {
      try {
        int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        return status == 200 ? Check.ok() : Check.notYet(url + " answered " + status);
      } catch (IOException e) {
        return Check.notYet(url + ": " + e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Check.notYet("interrupted");
      }
    };
  }

  private static Check safely(Supplier<Check> check) {
    try {
      return check.get();
    } catch (RuntimeException e) {
      return Check.notYet(e.toString());
    }
  }
}
