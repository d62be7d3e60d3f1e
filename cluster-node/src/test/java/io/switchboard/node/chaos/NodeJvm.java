package io.switchboard.node.chaos;

import io.switchboard.persistence.embedded.ProcessReadiness;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** One node as its own JVM process, killable with SIGTERM (graceful leave) or SIGKILL. */
final class NodeJvm implements AutoCloseable {
  final String name;
  final int httpPort;
  final int remotePort;
  final int managementPort;
  private final List<String> command;
  private final Path log;
  private Process process;

  NodeJvm(
      String name,
      int httpPort,
      int remotePort,
      int managementPort,
      List<String> seeds,
      String redisUrl,
      Path logDir) {
    this.name = name;
    this.httpPort = httpPort;
    this.remotePort = remotePort;
    this.managementPort = managementPort;
    this.log = logDir.resolve(name + ".log");
    command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx384m");
    command.add("-XX:+UseSerialGC");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("-Dswitchboard.http.port=" + httpPort);
    command.add("-Dswitchboard.remote.port=" + remotePort);
    command.add("-Dswitchboard.management.port=" + managementPort);
    command.add("-Dswitchboard.node.seed-nodes=" + String.join(",", seeds));
    command.add("-Dswitchboard.redis.url=" + redisUrl);
    // The chaos run is about delivery, not auth: the documented opt-in anonymous mode.
    command.add("-Dswitchboard.auth.mode=anonymous");
    command.add("-Dswitchboard.api.key=" + ChaosRun.API_KEY);
    command.add("-Dswitchboard.edge.client-publish=any");
    command.add("-Dswitchboard.edge.frames-per-second=1000");
    command.add("-Dswitchboard.edge.frame-burst=1000");
    command.add("-Dswitchboard.redis.operation-timeout=3s");
    command.add("-Dpekko.cluster.split-brain-resolver.stable-after=3s");
    command.add("-Dpekko.cluster.failure-detector.acceptable-heartbeat-pause=2s");
    command.add("-Dlogback.configurationFile=" + logbackFile());
    command.add("io.switchboard.node.Main");
  }

  private static String logbackFile() {
    return Path.of("src/main/resources/logback.xml").toAbsolutePath().toString();
  }

  NodeJvm start() throws IOException {
    process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    return this;
  }

  boolean alive() {
    return process != null && process.isAlive();
  }

  /** Waits until the node answers its readiness check. */
  void awaitReady(Duration timeout) {
    try {
      ProcessReadiness.await(
          name,
          process,
          timeout,
          Duration.ofMillis(200),
          ProcessReadiness.httpOk("http://127.0.0.1:" + managementPort + "/ready"));
    } catch (ProcessReadiness.NotReady e) {
      throw new IllegalStateException(e.getMessage() + "; see " + log, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(name + ": interrupted while starting", e);
    }
  }

  /** SIGTERM: the node leaves the cluster gracefully; waits for the process to end. */
  void terminate(Duration timeout) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly().waitFor();
      throw new IllegalStateException(name + " did not leave within " + timeout);
    }
  }

  /** SIGKILL: the node vanishes. */
  void kill() throws InterruptedException {
    process.destroyForcibly().waitFor();
  }

  URI wsUri() {
    return URI.create("ws://127.0.0.1:" + httpPort + "/ws");
  }

  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
    }
  }
}
