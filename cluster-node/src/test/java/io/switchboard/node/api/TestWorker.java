package io.switchboard.node.api;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.protobuf.ByteString;
import io.switchboard.protocol.v1.GatewayClient;
import io.switchboard.protocol.v1.GatewayFrame;
import io.switchboard.protocol.v1.IncomingMessage;
import io.switchboard.protocol.v1.IncomingRequest;
import io.switchboard.protocol.v1.LifecycleEvent;
import io.switchboard.protocol.v1.Register;
import io.switchboard.protocol.v1.Registered;
import io.switchboard.protocol.v1.RoutePattern;
import io.switchboard.protocol.v1.WorkerFrame;
import io.switchboard.protocol.v1.WorkerReply;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A backend worker for tests: one Serve stream through the generated gRPC client, its frames sorted
 * into queues by kind. {@link #crash()} fails the worker's side of the stream (a worker that died);
 * {@link #close()} completes it.
 */
final class TestWorker implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(10);

  private final BoundedSourceQueue<WorkerFrame> out;
  private final BlockingQueue<Registered> registered = new LinkedBlockingQueue<>();
  private final BlockingQueue<IncomingRequest> requests = new LinkedBlockingQueue<>();
  private final BlockingQueue<IncomingMessage> messages = new LinkedBlockingQueue<>();
  private final BlockingQueue<LifecycleEvent> events = new LinkedBlockingQueue<>();
  private final CompletableFuture<Done> ended;

  private TestWorker(
      BoundedSourceQueue<WorkerFrame> out, Source<GatewayFrame, NotUsed> in, Materializer mat) {
    this.out = out;
    this.ended = in.runWith(Sink.foreach(this::received), mat).toCompletableFuture();
  }

  /** Opens a Serve stream with {@code apiKey}. */
  static TestWorker open(ActorSystem<?> system, GatewayClient client, String apiKey) {
    Materializer mat = Materializer.matFromSystem(system);
    Pair<BoundedSourceQueue<WorkerFrame>, Source<WorkerFrame, NotUsed>> queue =
        Source.<WorkerFrame>queue(1000).preMaterialize(mat);
    Source<GatewayFrame, NotUsed> in =
        client.serve().addHeader("authorization", "Bearer " + apiKey).invoke(queue.second());
    return new TestWorker(queue.first(), in, mat);
  }

  /** Registers routes given as "METHOD /path" and events, and waits for Registered. */
  Registered register(List<String> routes, LifecycleEvent.Kind... wanted) {
    Register.Builder register = Register.newBuilder().setName("test worker");
    for (String route : routes) {
      String[] parts = route.split(" ", 2);
      register.addRoutes(RoutePattern.newBuilder().setMethod(parts[0]).setPath(parts[1]));
    }
    register.addAllEvents(List.of(wanted));
    send(WorkerFrame.newBuilder().setRegister(register).build());
    return poll(registered, "Registered");
  }

  void send(WorkerFrame frame) {
    out.offer(frame);
  }

  IncomingRequest nextRequest() {
    return poll(requests, "a request");
  }

  IncomingMessage nextMessage() {
    return poll(messages, "a message");
  }

  LifecycleEvent nextEvent() {
    return poll(events, "an event");
  }

  /** Requests received and not taken yet. */
  int queuedRequests() {
    return requests.size();
  }

  void reply(long requestId, int status, String body, Map<String, String> headers) {
    send(
        WorkerFrame.newBuilder()
            .setReply(
                WorkerReply.newBuilder()
                    .setRequestId(requestId)
                    .setStatus(status)
                    .putAllHeaders(headers)
                    .setBody(ByteString.copyFromUtf8(body)))
            .build());
  }

  /** The worker dies: its side of the stream fails (the call is cancelled). */
  void crash() {
    out.fail(new IllegalStateException("worker crashed"));
  }

  /** The end of the node's side of the stream (completed, or failed with a status). */
  CompletableFuture<Done> ended() {
    return ended;
  }

  @Override
  public void close() {
    if (!out.isCompleted()) {
      out.complete();
    }
  }

  private void received(GatewayFrame frame) {
    switch (frame.getKindCase()) {
      case REGISTERED -> registered.add(frame.getRegistered());
      case REQUEST -> requests.add(frame.getRequest());
      case MESSAGE -> messages.add(frame.getMessage());
      case EVENT -> events.add(frame.getEvent());
      default -> {}
    }
  }

  private static <T> T poll(BlockingQueue<T> queue, String what) {
    try {
      T item = queue.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      assertNotNull(item, () -> "no " + what + " within " + WAIT);
      return item;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
