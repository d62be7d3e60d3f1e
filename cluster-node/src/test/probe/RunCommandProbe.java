import io.switchboard.persistence.embedded.ProcessReadiness;
import io.switchboard.protocol.v1.ClientFrame;
import io.switchboard.protocol.v1.Connect;
import io.switchboard.protocol.v1.Join;
import io.switchboard.protocol.v1.Publish;
import io.switchboard.protocol.v1.ServerFrame;
import com.google.protobuf.ByteString;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The README's run command, end to end, on the classpath it gives the node. Run by the build
 * (exec:exec, pre-integration-test) as a single source file on the node's <em>runtime</em>
 * classpath — what exec:java resolves, which the tests, on the test classpath, never see — it starts
 * {@code io.switchboard.node.Main} on that classpath as a process of its own, with the JVM options
 * of {@code .mvn/jvm.config} and nothing configured but free loopback ports (so: its own embedded
 * Redis, development credentials), takes the development token from the node's log as a user
 * would, and over a real WebSocket connects, joins a group, publishes and expects the delivery.
 * Then it stops the node with SIGTERM and expects the process to end (status 0, or 143 for the
 * signal) and its embedded Redis to be gone. Any failure prints the node's log and fails the build.
 *
 * <p>Why: a test-scoped declaration of a library Redisson needs once left the run command's node
 * without a Redis connection — ready, answering health checks, opening no session — while every
 * test passed.
 *
 * <p>Arguments: the node's JVM options file ({@code .mvn/jvm.config}), a working directory for the
 * node (its embedded Redis keeps its files there).
 */
public final class RunCommandProbe {
  private static final Duration DEADLINE = Duration.ofSeconds(120);
  private static final Pattern JWT =
      Pattern.compile("^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$");
  private static final String GROUP = "run-probe";

  private final long started = System.nanoTime();
  private final long deadline = started + DEADLINE.toNanos();
  private final List<String> log = Collections.synchronizedList(new ArrayList<>());
  private final BlockingQueue<String> tokens = new LinkedBlockingQueue<>();
  private final HttpClient http = HttpClient.newHttpClient();

  public static void main(String[] args) throws Exception {
    Path jvmConfig = Path.of(args[0]);
    Path workDir = Path.of(args[1]);
    RunCommandProbe probe = new RunCommandProbe();
    try {
      probe.run(jvmConfig, workDir);
      System.out.printf(
          "run command probe: the node reached its Redis, served a session (connect, join,"
              + " publish, delivery) and stopped cleanly (%.1f s)%n",
          (System.nanoTime() - probe.started) / 1e9);
    } catch (Exception | AssertionError e) {
      System.err.println("run command probe FAILED: " + e.getMessage());
      System.err.println("---- node output ----");
      synchronized (probe.log) {
        probe.log.forEach(System.err::println);
      }
      System.exit(1);
    }
    System.exit(0);
  }

  private void run(Path jvmConfig, Path workDir) throws Exception {
    deleteRecursively(workDir); // a fresh node: no journal of an earlier run
    Files.createDirectories(workDir);
    int httpPort = freePort();
    int managementPort = freePort();
    int redisPort = freePort();
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String option : Files.readString(jvmConfig).trim().split("\\s+")) {
      if (!option.isEmpty()) {
        command.add(option);
      }
    }
    command.addAll(
        List.of("-cp", System.getProperty("java.class.path"), "io.switchboard.node.Main"));
    ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
    builder.environment().keySet().removeIf(name -> name.startsWith("SWITCHBOARD_"));
    builder.environment().put("SWITCHBOARD_HTTP_PORT", Integer.toString(httpPort));
    builder.environment().put("SWITCHBOARD_REMOTE_PORT", Integer.toString(freePort()));
    builder.environment().put("SWITCHBOARD_MANAGEMENT_PORT", Integer.toString(managementPort));
    builder.environment().put("SWITCHBOARD_EMBEDDED_REDIS_PORT", Integer.toString(redisPort));
    builder.redirectErrorStream(true);
    Process node = builder.start();
    try {
      readOutput(node);
      awaitReady(node, managementPort);
      String token = tokens.poll(remainingMillis(), TimeUnit.MILLISECONDS);
      check(token != null, "no development token in the node's log");
      session(httpPort, token);
      node.destroy(); // SIGTERM: leave the cluster, stop the embedded Redis
      check(node.waitFor(remainingMillis(), TimeUnit.MILLISECONDS), "the node did not stop");
      // 143: the JVM ended by the SIGTERM once its shutdown hooks (Pekko's leave) had run
      check(
          node.exitValue() == 0 || node.exitValue() == 143,
          "the node exited with status " + node.exitValue());
      check(!listening(redisPort), "the node's embedded Redis outlived it on port " + redisPort);
    } finally {
      stopAfterFailure(node, redisPort);
    }
  }

  /** Leaves nothing running when the probe failed half-way: the node, then its Redis. */
  private static void stopAfterFailure(Process node, int redisPort) throws InterruptedException {
    if (node.isAlive()) {
      node.destroy();
      if (!node.waitFor(20, TimeUnit.SECONDS)) {
        node.destroyForcibly().waitFor(); // its shutdown hook, which stops Redis, did not run
      }
    }
    if (listening(redisPort)) {
      try (Socket redis = new Socket(InetAddress.getLoopbackAddress(), redisPort)) {
        redis.getOutputStream().write("SHUTDOWN NOSAVE\r\n".getBytes(StandardCharsets.US_ASCII));
        redis.getInputStream().read(); // Redis closes the connection as it exits
      } catch (IOException gone) {
        // stopped meanwhile
      }
    }
  }

  /** Connect, Join, Publish over a real WebSocket (binary Protobuf): the Delivery must come. */
  private void session(int httpPort, String token) throws Exception {
    Frames frames = new Frames();
    WebSocket ws =
        http.newWebSocketBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .buildAsync(URI.create("ws://127.0.0.1:" + httpPort + "/ws?token=" + token), frames)
            .get(remainingMillis(), TimeUnit.MILLISECONDS);
    send(ws, ClientFrame.newBuilder().setId(1).setConnect(Connect.newBuilder().setClient("probe")));
    frames.await(ServerFrame.KindCase.CONNECTED);
    send(ws, ClientFrame.newBuilder().setId(2).setJoin(Join.newBuilder().setGroup(GROUP)));
    frames.await(ServerFrame.KindCase.JOINED);
    ByteString payload = ByteString.copyFromUtf8("hello from the run command probe");
    send(
        ws,
        ClientFrame.newBuilder()
            .setId(3)
            .setPublish(Publish.newBuilder().setGroup(GROUP).setPayload(payload)));
    ServerFrame delivery = frames.await(ServerFrame.KindCase.DELIVERY);
    check(
        delivery.getDelivery().getStream().equals(GROUP)
            && delivery.getDelivery().getPayload().equals(payload),
        "unexpected delivery " + delivery);
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(remainingMillis(), TimeUnit.MILLISECONDS);
  }

  private static void send(WebSocket ws, ClientFrame.Builder frame) throws Exception {
    ws.sendBinary(ByteBuffer.wrap(frame.build().toByteArray()), true).get(10, TimeUnit.SECONDS);
  }

  /** The node's server frames, in order; an Error frame or a close fails the probe. */
  private final class Frames implements WebSocket.Listener {
    private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

    @Override
    public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
      byte[] bytes = new byte[data.remaining()];
      data.get(bytes);
      partial.write(bytes, 0, bytes.length);
      if (last) {
        try {
          received.add(ServerFrame.parseFrom(partial.toByteArray()));
        } catch (IOException e) {
          received.add("an undecodable frame: " + e);
        }
        partial.reset();
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
      received.add("the node closed the WebSocket: " + code + " " + reason);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      received.add("WebSocket error: " + error);
    }

    ServerFrame await(ServerFrame.KindCase kind) throws InterruptedException {
      while (true) {
        Object next = received.poll(remainingMillis(), TimeUnit.MILLISECONDS);
        check(next != null, "no " + kind + " frame in time");
        check(next instanceof ServerFrame, String.valueOf(next));
        ServerFrame frame = (ServerFrame) next;
        check(frame.getKindCase() != ServerFrame.KindCase.ERROR, "Error frame: " + frame);
        if (frame.getKindCase() == kind) {
          return frame;
        }
      }
    }
  }

  private void readOutput(Process node) {
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader lines =
                  new BufferedReader(
                      new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                  log.add(line);
                  if (JWT.matcher(line.trim()).matches()) {
                    tokens.add(line.trim());
                  }
                }
              } catch (IOException e) {
                log.add("(reading the node's output failed: " + e + ")");
              }
            },
            "node-output");
    reader.setDaemon(true);
    reader.start();
  }

  private void awaitReady(Process node, int managementPort) throws Exception {
    try {
      ProcessReadiness.await(
          "node",
          node,
          Duration.ofMillis(remainingMillis()),
          Duration.ofMillis(200),
          ProcessReadiness.httpOk("http://127.0.0.1:" + managementPort + "/ready"));
    } catch (ProcessReadiness.NotReady e) {
      throw new AssertionError(e.getMessage());
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static boolean listening(int port) {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      return true;
    } catch (IOException refused) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private long remainingMillis() {
    return Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
  }

  private static void check(boolean condition, String failure) {
    if (!condition) {
      throw new AssertionError(failure);
    }
  }
}
