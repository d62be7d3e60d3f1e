package io.switchboard.node.edge;

import io.switchboard.node.stream.EncodedOnce;
import io.switchboard.node.stream.Publication;
import io.switchboard.protocol.FrameCodec;
import io.switchboard.protocol.v1.ServerFrame;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.TextMessage;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A WebSocket's outbound side: a bounded, lock-free queue of encoded messages (offers never block
 * the connection actor) feeding the socket, with a kill switch for connections that do not flush a
 * close in time. Binary Protobuf or canonical JSON, fixed per connection by the subprotocol.
 */
final class WebSocketTransport implements Transport {

  /** Room kept beyond the capacity for control frames, answers and the final Close. */
  private static final int HEADROOM = 64;

  private final BoundedSourceQueue<Message> queue;
  private final UniqueKillSwitch killSwitch;
  private final boolean json;
  private final int capacity;
  private final Source<Message, NotUsed> source;

  private WebSocketTransport(
      BoundedSourceQueue<Message> queue,
      UniqueKillSwitch killSwitch,
      Source<Message, NotUsed> source,
      boolean json,
      int capacity) {
    this.queue = queue;
    this.killSwitch = killSwitch;
    this.source = source;
    this.json = json;
    this.capacity = capacity;
  }

  /** A transport whose outbound source is ready to hand to the WebSocket flow. */
  static WebSocketTransport create(Materializer materializer, boolean json, int capacity) {
    Pair<Pair<BoundedSourceQueue<Message>, UniqueKillSwitch>, Source<Message, NotUsed>> pre =
        Source.<Message>queue(capacity + HEADROOM)
            .viaMat(KillSwitches.single(), Keep.both())
            .preMaterialize(materializer);
    return new WebSocketTransport(
        pre.first().first(), pre.first().second(), pre.second(), json, capacity);
  }

  /** The outbound messages of this connection. */
  Source<Message, NotUsed> source() {
    return source;
  }

  @Override
  public boolean send(ServerFrame frame) {
    // Control frames and answers may use the headroom (all but the slot kept for Close): a full
    // buffer of deliveries (e.g. a replay) must not turn a Ping into a slow-consumer close.
    if (queue.size() >= capacity + HEADROOM - 1) {
      return false;
    }
    return queue.offer(encode(frame)) != QueueOfferResult.dropped();
  }

  /** Deliveries are bounded by the capacity; the headroom stays free for control frames. */
  @Override
  public boolean sendDelivery(String stream, Publication publication, EncodedOnce shared) {
    if (shared == null) {
      return offer(encode(ServerFrames.delivery(stream, publication)));
    }
    Message message =
        json
            ? TextMessage.create(
                shared.json(
                    () -> FrameCodec.encodeJson(ServerFrames.delivery(stream, publication))))
            : BinaryMessage.create(
                ByteString.fromArrayUnsafe(
                    shared.binary(
                        () ->
                            FrameCodec.encodeBinary(ServerFrames.delivery(stream, publication)))));
    return offer(message);
  }

  @Override
  public void sendUrgent(ServerFrame frame) {
    queue.offer(encode(frame));
  }

  @Override
  public int queued() {
    return queue.size();
  }

  @Override
  public int capacity() {
    return capacity;
  }

  @Override
  public void complete() {
    try {
      queue.complete();
    } catch (IllegalStateException alreadyOver) {
      // The socket went away first (the client closed it or the stream failed): nothing to flush.
    }
  }

  @Override
  public void abort() {
    killSwitch.abort(new IllegalStateException("connection did not close in time"));
  }

  @Override
  public String name() {
    return "websocket";
  }

  private boolean offer(Message message) {
    if (queue.size() >= capacity) {
      return false;
    }
    QueueOfferResult result = queue.offer(message);
    // Dropped: full after all. A closed or failed queue means the socket is going away anyway.
    return result != QueueOfferResult.dropped();
  }

  private Message encode(ServerFrame frame) {
    if (json) {
      return TextMessage.create(FrameCodec.encodeJson(frame));
    }
    return BinaryMessage.create(ByteString.fromArrayUnsafe(FrameCodec.encodeBinary(frame)));
  }
}
