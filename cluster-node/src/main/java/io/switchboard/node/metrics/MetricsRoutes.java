package io.switchboard.node.metrics;

import io.switchboard.node.group.GroupEntity;
import io.switchboard.node.session.SessionEntity;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.ExtensionId;
import org.apache.pekko.actor.ExtensionIdProvider;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /metrics} on the management port, in Prometheus' text exposition format: the node's
 * counters and histograms, plus gauges read at scrape time (entities and shards hosted here,
 * cluster members by status). Registered in pekko-node.conf under {@code
 * pekko.management.http.routes}.
 */
public final class MetricsRoutes extends AbstractExtensionId<MetricsRoutes.Provider>
    implements ExtensionIdProvider {

  @Override
  public ExtensionId<Provider> lookup() {
    return this;
  }

  @Override
  public Provider createExtension(ExtendedActorSystem system) {
    return new Provider(Adapter.toTyped(system));
  }

  /** The route provider of one actor system. */
  public static final class Provider implements ManagementRouteProvider {
    private final ActorSystem<?> system;

    Provider(ActorSystem<?> system) {
      this.system = system;
    }

    @Override
    public Route routes(ManagementRouteProviderSettings settings) {
      return Directives.path(
          "metrics",
          () ->
              Directives.get(
                  () ->
                      Directives.onSuccess(
                          render(),
                          text ->
                              Directives.complete(
                                  HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, text)))));
    }

    private CompletionStage<String> render() {
      CompletableFuture<ShardRegion.CurrentShardRegionState> sessions =
          regionState(SessionEntity.ENTITY_KEY);
      CompletableFuture<ShardRegion.CurrentShardRegionState> groups =
          regionState(GroupEntity.ENTITY_KEY);
      return CompletableFuture.allOf(sessions, groups)
          .handle(
              (ok, failure) -> {
                NodeMetrics m = NodeMetrics.get(system);
                StringBuilder out = new StringBuilder(4096);
                gauge(
                    out,
                    "switchboard_connections",
                    "Open client connections on this node.",
                    m.connections.sum());
                counter(
                    out,
                    "switchboard_frames_in_total",
                    "Frames received from clients.",
                    m.framesIn.sum());
                counter(
                    out,
                    "switchboard_frames_out_total",
                    "Frames queued to clients.",
                    m.framesOut.sum());
                counter(
                    out,
                    "switchboard_frames_refused_total",
                    "Client frames refused with an Error.",
                    m.framesRefused.sum());
                counter(
                    out,
                    "switchboard_deliveries_total",
                    "Messages queued to clients, live and replayed.",
                    m.deliveries.sum());
                counter(
                    out,
                    "switchboard_replayed_total",
                    "Messages read back from a log (resume, history, repair).",
                    m.replayed.sum());
                counter(
                    out,
                    "switchboard_slow_consumer_closes_total",
                    "Connections closed because their buffer filled.",
                    m.slowConsumerCloses.sum());
                counter(
                    out,
                    "switchboard_reads_paused_for_room_total",
                    "Times a WebSocket was not read until its client read its queued answers.",
                    m.readsPausedForRoom.sum());
                counter(
                    out,
                    "switchboard_acks_on_socket_thread_total",
                    "Client acks recorded on their socket's thread, without the connection actor.",
                    m.acksOnSocketThread.sum());
                counter(
                    out,
                    "switchboard_long_poll_relays_total",
                    "Long-poll calls passed to the node holding the session's socket.",
                    m.longPollRelays.sum());
                counter(
                    out,
                    "switchboard_long_poll_resumes_total",
                    "Long-poll sessions resumed by a new socket here for a poll or send.",
                    m.longPollResumes.sum());
                counter(
                    out,
                    "switchboard_publications_total",
                    "Publications journaled by groups hosted here.",
                    m.publications.sum());
                m.journalWrite.render(
                    out,
                    "switchboard_journal_write_seconds",
                    "Time from a command to its event being journaled.");
                regionGauges(out, "session", sessions.getNow(null));
                regionGauges(out, "group", groups.getNow(null));
                out.append("# HELP switchboard_cluster_members Cluster members by status.\n");
                out.append("# TYPE switchboard_cluster_members gauge\n");
                var members = Cluster.get(system).state().getMembers();
                for (MemberStatus status :
                    java.util.List.of(
                        MemberStatus.joining(),
                        MemberStatus.up(),
                        MemberStatus.leaving(),
                        MemberStatus.exiting(),
                        MemberStatus.down())) {
                  long n = 0;
                  for (var member : members) {
                    if (member.status() == status) {
                      n++;
                    }
                  }
                  out.append("switchboard_cluster_members{status=\"")
                      .append(status.toString().toLowerCase(java.util.Locale.ROOT))
                      .append("\"} ")
                      .append(n)
                      .append('\n');
                }
                return out.toString();
              });
    }

    private CompletableFuture<ShardRegion.CurrentShardRegionState> regionState(
        EntityTypeKey<?> key) {
      return AskPattern
          .<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery,
              ShardRegion.CurrentShardRegionState>
              ask(
                  ClusterSharding.get(system).shardState(),
                  replyTo -> new GetShardRegionState(key, replyTo),
                  Duration.ofSeconds(3),
                  system.scheduler())
          .toCompletableFuture();
    }

    private static void regionGauges(
        StringBuilder out, String type, ShardRegion.CurrentShardRegionState state) {
      if (state == null) {
        return;
      }
      long entities = 0;
      for (var shard : state.getShards()) {
        entities += shard.getEntityIds().size();
      }
      gauge(
          out,
          "switchboard_" + type + "_entities",
          "Entities of this type hosted on this node.",
          entities);
      gauge(
          out,
          "switchboard_" + type + "_shards",
          "Shards of this type hosted on this node.",
          state.getShards().size());
    }

    private static void counter(StringBuilder out, String name, String help, long value) {
      out.append("# HELP ").append(name).append(' ').append(help).append('\n');
      out.append("# TYPE ").append(name).append(" counter\n");
      out.append(name).append(' ').append(value).append('\n');
    }

    private static void gauge(StringBuilder out, String name, String help, long value) {
      out.append("# HELP ").append(name).append(' ').append(help).append('\n');
      out.append("# TYPE ").append(name).append(" gauge\n");
      out.append(name).append(' ').append(value).append('\n');
    }
  }
}
