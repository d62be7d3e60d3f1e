package io.switchboard.node.api;

import io.switchboard.node.backend.BackendRouterActor;
import io.switchboard.node.group.GroupEntity;
import io.switchboard.node.session.SessionEntity;
import io.switchboard.protocol.v1.InfoResponse;
import io.switchboard.protocol.v1.NodeInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The Info call: cluster members from this node's view, each node's connections and workers (from
 * every node's backend router), session and group entities per node (from cluster sharding), and
 * the routes workers serve. A node that does not answer in time is listed without its counts.
 */
final class ClusterInfo {
  private final ActorSystem<?> system;
  private final ActorRef<BackendRouterActor.Command> localRouter;
  private final Duration timeout;

  ClusterInfo(
      ActorSystem<?> system, ActorRef<BackendRouterActor.Command> localRouter, Duration timeout) {
    this.system = system;
    this.localRouter = localRouter;
    this.timeout = timeout;
  }

  CompletionStage<InfoResponse> info() {
    CompletableFuture<Map<String, BackendRouterActor.NodeStats>> stats = nodeStats();
    CompletableFuture<Map<Address, Long>> sessions = entities(SessionEntity.ENTITY_KEY);
    CompletableFuture<Map<Address, Long>> groups = entities(GroupEntity.ENTITY_KEY);
    CompletableFuture<BackendRouterActor.Routes> routes =
        AskPattern.<BackendRouterActor.Command, BackendRouterActor.Routes>ask(
                localRouter, BackendRouterActor.GetRoutes::new, timeout, system.scheduler())
            .toCompletableFuture();
    return CompletableFuture.allOf(stats, sessions, groups, routes)
        .thenApply(done -> compose(stats.join(), sessions.join(), groups.join(), routes.join()));
  }

  private InfoResponse compose(
      Map<String, BackendRouterActor.NodeStats> stats,
      Map<Address, Long> sessions,
      Map<Address, Long> groups,
      BackendRouterActor.Routes routes) {
    Cluster cluster = Cluster.get(system);
    var state = cluster.state();
    Set<Member> unreachable = state.getUnreachable();
    InfoResponse.Builder b =
        InfoResponse.newBuilder()
            .setNode(cluster.selfMember().address().toString())
            .addAllRoutes(ProtoMapper.routes(routes.routes()));
    for (Member member : state.getMembers()) {
      Address address = member.address();
      NodeInfo node =
          ProtoMapper.node(
              member,
              !unreachable.contains(member),
              stats.get(address.toString()),
              sessions.getOrDefault(address, 0L),
              groups.getOrDefault(address, 0L));
      b.addNodes(node);
      b.setConnections(b.getConnections() + node.getConnections());
    }
    sessions.values().forEach(n -> b.setSessions(b.getSessions() + n));
    groups.values().forEach(n -> b.setGroups(b.getGroups() + n));
    return b.build();
  }

  /** Every router's counts, by node address; routers that do not answer are left out. */
  private CompletableFuture<Map<String, BackendRouterActor.NodeStats>> nodeStats() {
    return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(
            system.receptionist(),
            replyTo -> Receptionist.find(BackendRouterActor.SERVICE_KEY, replyTo),
            timeout,
            system.scheduler())
        .thenCompose(
            listing -> {
              List<CompletableFuture<BackendRouterActor.NodeStats>> asks = new ArrayList<>();
              for (var router : listing.getServiceInstances(BackendRouterActor.SERVICE_KEY)) {
                asks.add(
                    AskPattern.<BackendRouterActor.Command, BackendRouterActor.NodeStats>ask(
                            router,
                            BackendRouterActor.GetNodeStats::new,
                            timeout,
                            system.scheduler())
                        .toCompletableFuture()
                        .exceptionally(failure -> null));
              }
              return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
                  .thenApply(
                      done -> {
                        Map<String, BackendRouterActor.NodeStats> byAddress = new HashMap<>();
                        for (var ask : asks) {
                          BackendRouterActor.NodeStats s = ask.join();
                          if (s != null) {
                            byAddress.put(s.address(), s);
                          }
                        }
                        return byAddress;
                      });
            })
        .toCompletableFuture();
  }

  /** Active entities of one type per node. */
  private CompletableFuture<Map<Address, Long>> entities(EntityTypeKey<?> key) {
    return AskPattern.<Object, ShardRegion.ClusterShardingStats>ask(
            ClusterSharding.get(system).shardState().unsafeUpcast(),
            replyTo -> new GetClusterShardingStats(key, timeout, replyTo),
            timeout.plusSeconds(1),
            system.scheduler())
        .thenApply(
            stats -> {
              Map<Address, Long> counts = new HashMap<>();
              stats
                  .getRegions()
                  .forEach(
                      (address, region) ->
                          counts.put(
                              address,
                              region.getStats().values().stream()
                                  .mapToLong(n -> ((Number) n).longValue())
                                  .sum()));
              return counts;
            })
        .toCompletableFuture();
  }
}
