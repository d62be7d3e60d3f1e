package io.switchboard.node.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.WebSocketRequest;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgradeResponse;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Pekko HTTP's client WebSocket ({@code singleWebSocketRequest}) as the load generator's client,
 * for comparison with {@link NioWebSockets}: one materialized stream per socket in a local actor
 * system of this JVM.
 */
final class PekkoWebSockets implements WsConnection.Client {
  private static final int QUEUE = 1024;
  private final ActorSystem<Void> system;
  private final Materializer materializer;

  PekkoWebSockets() {
    Config config =
        ConfigFactory.parseString(
                """
                pekko.actor.provider = local
                pekko.loglevel = WARNING
                pekko.loggers = ["org.apache.pekko.event.Logging$DefaultLogger"]
                pekko.http.client.idle-timeout = infinite
                pekko.http.client.connecting-timeout = 30s
                """)
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    system = ActorSystem.create(Behaviors.empty(), "bench-client", config);
    materializer = Materializer.matFromSystem(system);
  }

  @Override
  public String name() {
    return "pekko-http singleWebSocketRequest";
  }

  @Override
  public void open(URI uri, WsConnection.Handler handler) {
    Conn conn = new Conn(handler);
    Sink<Message, CompletionStage<Done>> inbound =
        Flow.<Message>create()
            .mapAsync(
                1,
                (Message m) ->
                    m.isStrict()
                        ? CompletableFuture.<Message>completedFuture(m)
                        : m.asBinaryMessage()
                            .toStrict(5000, materializer)
                            .thenApply(strict -> (Message) strict))
            .toMat(Sink.foreach(conn::received), Keep.right());
    Flow<Message, Message, Pair<CompletionStage<Done>, BoundedSourceQueue<Message>>> flow =
        Flow.fromSinkAndSourceMat(inbound, Source.<Message>queue(QUEUE), Keep.both());
    Pair<
            CompletionStage<WebSocketUpgradeResponse>,
            Pair<CompletionStage<Done>, BoundedSourceQueue<Message>>>
        pair =
            Http.get(system)
                .singleWebSocketRequest(
                    WebSocketRequest.create(uri.toString()).requestSubprotocol("switchboard.v1"),
                    flow,
                    materializer);
    conn.queue = pair.second().second();
    pair.second().first().whenComplete((d, e) -> conn.closed(e == null ? 1000 : 1006, "" + e));
    pair.first()
        .whenComplete(
            (response, e) -> {
              if (e != null || !response.isValid()) {
                conn.closed(1006, e != null ? e.toString() : response.invalidationReason());
                conn.abort();
              } else {
                handler.onOpen(conn);
              }
            });
  }

  @Override
  public void close() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // best effort
    }
  }

  private static final class Conn implements WsConnection {
    private final WsConnection.Handler handler;
    volatile BoundedSourceQueue<Message> queue;
    private boolean done;

    Conn(WsConnection.Handler handler) {
      this.handler = handler;
    }

    void received(Message m) {
      if (m.isText()) {
        return;
      }
      ByteString data = ((BinaryMessage) m).getStrictData();
      handler.onBinary(this, data.asByteBuffer());
    }

    synchronized void closed(int code, String reason) {
      if (!done) {
        done = true;
        handler.onClosed(code, reason);
      }
    }

    @Override
    public void sendBinary(byte[] message) {
      QueueOfferResult r = queue.offer(BinaryMessage.create(ByteString.fromArrayUnsafe(message)));
      if (r == QueueOfferResult.dropped()) {
        closed(1006, "client queue full");
        abort();
      }
    }

    @Override
    public long queuedBytes() {
      return queue.size() * 64L;
    }

    @Override
    public void abort() {
      queue.fail(new IllegalStateException("aborted by the client"));
    }
  }
}
