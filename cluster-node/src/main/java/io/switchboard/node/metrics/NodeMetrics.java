package io.switchboard.node.metrics;

import java.util.concurrent.atomic.LongAdder;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * The counters and histograms of one node, shared by its actors (one instance per actor system).
 * Updates are lock-free ({@link LongAdder}), cheap enough for the per-delivery path.
 */
public final class NodeMetrics implements Extension {
  /** Open client connections on this node. */
  public final LongAdder connections = new LongAdder();

  /** Frames received from clients. */
  public final LongAdder framesIn = new LongAdder();

  /** Frames queued to clients (deliveries included). */
  public final LongAdder framesOut = new LongAdder();

  /** Messages queued to clients (live and replayed). */
  public final LongAdder deliveries = new LongAdder();

  /** Messages read back from a log (resume, join with history, gap repair). */
  public final LongAdder replayed = new LongAdder();

  /** Connections closed because they did not read fast enough. */
  public final LongAdder slowConsumerCloses = new LongAdder();

  /**
   * Times a WebSocket stopped being read because its client had not read the answers queued to it
   * (flow control: the client is read again once it caught up; nothing is closed for it).
   */
  public final LongAdder readsPausedForRoom = new LongAdder();

  /**
   * Client Ack frames recorded on their socket's thread without a message to the connection actor
   * (they are counted in {@link #framesIn} too).
   */
  public final LongAdder acksOnSocketThread = new LongAdder();

  /** Frames refused with an Error. */
  public final LongAdder framesRefused = new LongAdder();

  /** Long-poll calls this node passed to the node holding their session's socket. */
  public final LongAdder longPollRelays = new LongAdder();

  /** Long-poll sessions a new socket on this node resumed for a poll or send. */
  public final LongAdder longPollResumes = new LongAdder();

  /** Publications journaled by group entities on this node. */
  public final LongAdder publications = new LongAdder();

  /** Time from a command to its event being journaled, in group and session entities. */
  public final LatencyHistogram journalWrite = new LatencyHistogram();

  private static final Id ID = new Id();

  /** The metrics of this actor system. */
  public static NodeMetrics get(ActorSystem<?> system) {
    return ID.get(Adapter.toClassic(system));
  }

  private static final class Id extends AbstractExtensionId<NodeMetrics> {
    @Override
    public NodeMetrics createExtension(ExtendedActorSystem system) {
      return new NodeMetrics();
    }
  }
}
