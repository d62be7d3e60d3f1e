package io.switchboard.node.edge;

import io.switchboard.node.stream.EncodedOnce;
import io.switchboard.node.stream.Publication;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.ServerFrame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.Scheduler;
import scala.concurrent.ExecutionContext;

/**
 * A long-poll socket's outbound side. Frames the connection actor sends wait in an outbox until a
 * poll takes them; deliveries stay there until a later poll's cursors cover them, so a poll answer
 * lost on the way is sent again to the next poll with the same cursors (other frames go out once).
 * Answers to the frames of a send (matched by frame id) go to that send, never to the outbox. Pings
 * are dropped (polls are the client's heartbeat). A close the client must not obey (the session
 * moved to another socket, the node is leaving, a slow or silent client: the next poll simply
 * resumes) ends a held poll with an empty batch; any other close is handed to the client.
 *
 * <p>Thread-safe: the connection actor offers frames while HTTP calls poll and send. Futures are
 * completed outside the lock.
 */
final class LongPollTransport implements Transport {

  /** Room kept beyond the capacity for control frames, answers and the final Close. */
  private static final int HEADROOM = 64;

  /** Serialized bytes one poll answer carries at most (at least one frame). */
  private static final int MAX_BATCH_BYTES = 1 << 20;

  /** Closes that end the socket without telling the client: its next poll resumes the session. */
  private static final Set<Integer> SILENT_CLOSES =
      Set.of(
          CloseCode.SHUTTING_DOWN.code(),
          CloseCode.SLOW_CONSUMER.code(),
          CloseCode.HEARTBEAT_TIMEOUT.code(),
          CloseCode.INTERNAL_ERROR.code(),
          CloseCode.SESSION_REPLACED.code());

  /** One outbound frame; {@code stream} is null for frames that are not deliveries. */
  private record Entry(ServerFrame frame, String stream, long offset, boolean[] sent) {}

  /** The frames of one send (or open), matched by id, and the answers that came for them. */
  private static final class Exchange {
    final Set<Long> ids;
    final Set<Long> awaited;
    final List<ServerFrame> answers = new ArrayList<>();
    final CompletableFuture<List<ServerFrame>> done = new CompletableFuture<>();
    Cancellable deadline;

    Exchange(Set<Long> ids, Set<Long> awaited) {
      this.ids = ids;
      this.awaited = new HashSet<>(awaited);
    }
  }

  private final Scheduler scheduler;
  private final ExecutionContext executor;
  private final int capacity;
  private final int maxBatch;
  private final Duration linger;
  private final LinkedList<Entry> outbox = new LinkedList<>();
  private final List<Exchange> exchanges = new ArrayList<>();
  private CompletableFuture<List<ServerFrame>> held;
  private Cancellable holdTimer;
  private Cancellable lingerTimer;
  private boolean closed;
  private boolean closeToDeliver;
  private Runnable onComplete = () -> {};
  private long lastActivityNanos = System.nanoTime();

  LongPollTransport(
      Scheduler scheduler, ExecutionContext executor, int capacity, int maxBatch, Duration linger) {
    this.scheduler = scheduler;
    this.executor = executor;
    this.capacity = capacity;
    this.maxBatch = maxBatch;
    this.linger = linger;
  }

  /** What to do when the connection completes its outbound side (end the inbound side). */
  synchronized void onComplete(Runnable action) {
    this.onComplete = action;
  }

  // ---- the connection actor's side

  @Override
  public boolean send(ServerFrame frame) {
    List<Runnable> after = new ArrayList<>();
    boolean accepted;
    synchronized (this) {
      accepted = offer(frame, null, 0, capacity + HEADROOM - 1, after);
    }
    after.forEach(Runnable::run);
    return accepted;
  }

  @Override
  public boolean sendDelivery(String stream, Publication publication, EncodedOnce shared) {
    List<Runnable> after = new ArrayList<>();
    boolean accepted;
    synchronized (this) {
      accepted =
          offer(
              ServerFrames.delivery(stream, publication),
              stream,
              publication.offset(),
              capacity,
              after);
    }
    after.forEach(Runnable::run);
    return accepted;
  }

  @Override
  public void sendUrgent(ServerFrame frame) {
    List<Runnable> after = new ArrayList<>();
    synchronized (this) {
      offer(frame, null, 0, Integer.MAX_VALUE, after);
    }
    after.forEach(Runnable::run);
  }

  @Override
  public synchronized int queued() {
    return outbox.size();
  }

  @Override
  public int capacity() {
    return capacity;
  }

  @Override
  public void complete() {
    finish(true);
  }

  @Override
  public void abort() {
    finish(true);
  }

  @Override
  public String name() {
    return "long-poll";
  }

  /** The connection actor stopped (whether or not it completed this transport first). */
  @Override
  public void connectionStopped() {
    finish(false);
  }

  private boolean offer(
      ServerFrame frame, String stream, long offset, int limit, List<Runnable> after) {
    if (closed) {
      return true; // the socket is going away; its client resumes from its cursors
    }
    switch (frame.getKindCase()) {
      case PING -> {
        return true;
      }
      case CLOSE -> {
        onClose(frame, after);
        return true;
      }
      default -> {}
    }
    if (frame.hasLeft()) {
      // Deliveries of a group the client left would wait forever for a cursor it no longer sends.
      String groupId = frame.getLeft().getGroup();
      outbox.removeIf(e -> groupId.equals(e.stream()));
    }
    if (frame.getId() != 0) {
      for (Exchange exchange : exchanges) {
        if (exchange.ids.contains(frame.getId())) {
          exchange.answers.add(frame);
          exchange.awaited.remove(frame.getId());
          if (exchange.awaited.isEmpty()) {
            end(exchange, after);
          }
          return true;
        }
      }
    }
    if (frame.hasConnected()) {
      return true; // answered a Resume this node made for a poll; the client has its session
    }
    if (outbox.size() >= limit) {
      return false;
    }
    outbox.add(new Entry(frame, stream, offset, new boolean[1]));
    arrived(after);
    return true;
  }

  private void onClose(ServerFrame close, List<Runnable> after) {
    if (SILENT_CLOSES.contains(close.getClose().getCode())) {
      return;
    }
    closeToDeliver = true;
    outbox.add(new Entry(close, null, 0, new boolean[1]));
    for (Exchange exchange : exchanges) {
      exchange.answers.add(close);
    }
  }

  private void finish(boolean completeInbound) {
    List<Runnable> after = new ArrayList<>();
    synchronized (this) {
      if (!closed) {
        closed = true;
        new ArrayList<>(exchanges).forEach(e -> end(e, after));
        if (held != null) {
          answerHeld(closeToDeliver ? take() : List.of(), after);
        }
        if (completeInbound) {
          after.add(onComplete);
        }
      }
    }
    after.forEach(Runnable::run);
  }

  // ---- the HTTP side

  /**
   * A poll: forgets what {@code cursors} acknowledge, then answers at once with what is due (again
   * if unacknowledged), or holds until something is due or {@code wait} passed. Ends the poll held
   * before it, if any, with an empty batch.
   */
  CompletionStage<List<ServerFrame>> poll(Map<String, Long> cursors, Duration wait) {
    List<Runnable> after = new ArrayList<>();
    CompletableFuture<List<ServerFrame>> answer = new CompletableFuture<>();
    synchronized (this) {
      lastActivityNanos = System.nanoTime();
      if (held != null) {
        answerHeld(List.of(), after);
      }
      prune(cursors);
      if (closed || !outbox.isEmpty()) {
        List<ServerFrame> batch = closed && !closeToDeliver ? List.of() : take();
        after.add(() -> answer.complete(batch));
      } else {
        held = answer;
        holdTimer = scheduler.scheduleOnce(wait, () -> expire(answer), executor);
      }
    }
    after.forEach(Runnable::run);
    return answer;
  }

  /**
   * Starts an exchange: frames with these {@code ids} are answered into it; it completes once each
   * of {@code awaited} was answered, or at {@code deadline} with what came.
   */
  CompletionStage<List<ServerFrame>> exchange(Set<Long> ids, Set<Long> awaited, Duration deadline) {
    Exchange exchange = new Exchange(ids, awaited);
    synchronized (this) {
      lastActivityNanos = System.nanoTime();
      if (closed) {
        return CompletableFuture.completedFuture(closeToDeliver ? closeFrames() : List.of());
      }
      exchanges.add(exchange);
      exchange.deadline = scheduler.scheduleOnce(deadline, () -> timeOut(exchange), executor);
    }
    return exchange.done;
  }

  /** Whether the socket is gone and has nothing left for its client. */
  synchronized boolean isSpent() {
    return closed && !closeToDeliver;
  }

  /** Whether the connection completed or stopped: a new socket must serve the next call. */
  synchronized boolean isClosed() {
    return closed;
  }

  /** Whether no poll is held, no send is waiting, and nothing arrived for {@code idle}. */
  synchronized boolean isIdle(Duration idle) {
    return held == null
        && exchanges.isEmpty()
        && System.nanoTime() - lastActivityNanos > idle.toNanos();
  }

  /** Whether a poll is held or a send is waiting: the client is there. */
  synchronized boolean isBusy() {
    return held != null || !exchanges.isEmpty();
  }

  private void prune(Map<String, Long> cursors) {
    Iterator<Entry> it = outbox.iterator();
    while (it.hasNext()) {
      Entry entry = it.next();
      boolean acked =
          entry.stream() != null
              ? entry.offset() <= cursors.getOrDefault(entry.stream(), Long.MIN_VALUE)
              : entry.sent()[0] && !entry.frame().hasClose();
      if (acked) {
        it.remove();
      }
    }
  }

  /** Frames for one poll answer, in order, marked sent (deliveries stay until acknowledged). */
  private List<ServerFrame> take() {
    List<ServerFrame> batch = new ArrayList<>();
    int bytes = 0;
    for (Entry entry : outbox) {
      int size = entry.frame().getSerializedSize();
      if (batch.size() >= maxBatch || (!batch.isEmpty() && bytes + size > MAX_BATCH_BYTES)) {
        break;
      }
      batch.add(entry.frame());
      bytes += size;
      entry.sent()[0] = true;
    }
    return batch;
  }

  private List<ServerFrame> closeFrames() {
    return outbox.stream().map(Entry::frame).filter(ServerFrame::hasClose).toList();
  }

  /** A frame joined the outbox: a held poll answers after the linger, or at once when full. */
  private void arrived(List<Runnable> after) {
    if (held == null) {
      return;
    }
    if (outbox.size() >= maxBatch) {
      answerHeld(take(), after);
    } else if (lingerTimer == null) {
      CompletableFuture<List<ServerFrame>> poll = held;
      lingerTimer = scheduler.scheduleOnce(linger, () -> expire(poll), executor);
    }
  }

  /** The hold or the linger of {@code poll} is over: it answers with what is due, if anything. */
  private void expire(CompletableFuture<List<ServerFrame>> poll) {
    List<Runnable> after = new ArrayList<>();
    synchronized (this) {
      if (held == poll) {
        answerHeld(take(), after);
      }
    }
    after.forEach(Runnable::run);
  }

  private void answerHeld(List<ServerFrame> batch, List<Runnable> after) {
    CompletableFuture<List<ServerFrame>> poll = held;
    held = null;
    cancel(holdTimer);
    cancel(lingerTimer);
    holdTimer = null;
    lingerTimer = null;
    lastActivityNanos = System.nanoTime();
    after.add(() -> poll.complete(batch));
  }

  private void timeOut(Exchange exchange) {
    List<Runnable> after = new ArrayList<>();
    synchronized (this) {
      if (exchanges.contains(exchange)) {
        end(exchange, after);
      }
    }
    after.forEach(Runnable::run);
  }

  private void end(Exchange exchange, List<Runnable> after) {
    exchanges.remove(exchange);
    cancel(exchange.deadline);
    lastActivityNanos = System.nanoTime();
    List<ServerFrame> answers = List.copyOf(exchange.answers);
    after.add(() -> exchange.done.complete(answers));
  }

  private static void cancel(Cancellable timer) {
    if (timer != null) {
      timer.cancel();
    }
  }
}
