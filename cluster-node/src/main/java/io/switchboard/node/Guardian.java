package io.switchboard.node;

import io.switchboard.node.api.ApiServer;
import io.switchboard.node.auth.DevTokens;
import io.switchboard.node.auth.Gatekeeper;
import io.switchboard.node.backend.Backends;
import io.switchboard.node.bridge.BridgeRoutes;
import io.switchboard.node.config.ApiSettings;
import io.switchboard.node.config.AuthSettings;
import io.switchboard.node.config.EdgeSettings;
import io.switchboard.node.config.GroupSettings;
import io.switchboard.node.config.LimitSettings;
import io.switchboard.node.config.LongPollSettings;
import io.switchboard.node.config.NodeSettings;
import io.switchboard.node.config.PersistenceSettings;
import io.switchboard.node.config.SessionSettings;
import io.switchboard.node.edge.ConnectionRegistryActor;
import io.switchboard.node.edge.FrontDoor;
import io.switchboard.node.edge.LongPollRoutes;
import io.switchboard.node.edge.LongPollSessions;
import io.switchboard.node.edge.WebSocketRoutes;
import io.switchboard.node.group.FanoutRegistryActor;
import io.switchboard.node.group.GroupEntity;
import io.switchboard.node.session.SessionEntity;
import io.switchboard.node.user.UserEntity;
import io.switchboard.persistence.redis.RedisClients;
import io.switchboard.persistence.redis.RedisSettings;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.redisson.api.RedissonClient;

/**
 * The root of a node: registers the sharded entities, starts the node-local registries (fan-out,
 * connections), Pekko Management (health checks) and the HTTP server, and closes client connections
 * with SHUTTING_DOWN before the node leaves.
 */
public final class Guardian {
  private Guardian() {}

  /** The guardian behavior of a node. */
  public static Behavior<Void> create() {
    return Behaviors.setup(
        ctx -> {
          ActorSystem<Void> system = ctx.getSystem();
          var config = system.settings().config();
          NodeSettings node = NodeSettings.create(config);
          EdgeSettings edge = EdgeSettings.create(config);
          PersistenceSettings persistence = PersistenceSettings.create(config);
          SessionEntity.init(system, SessionSettings.create(config), persistence);
          GroupSettings groups = GroupSettings.create(config);
          GroupEntity.init(system, groups, persistence);
          UserEntity.init(system, persistence);
          // The backend registry of this node: routes browser requests to Serve workers.
          Backends.get(system);

          ActorRef<FanoutRegistryActor.Command> fanouts =
              ctx.spawn(FanoutRegistryActor.create(groups.fanoutRefreshInterval()), "fanouts");
          String nodeName = node.host() + ":" + node.httpPort();
          Gatekeeper gate = gatekeeper(system, edge);
          ActorRef<ConnectionRegistryActor.Command> connections =
              ctx.spawn(
                  ConnectionRegistryActor.create(edge, nodeName, fanouts, gate), "connections");

          LongPollSettings longPoll = LongPollSettings.create(config);
          ActorRef<LongPollSessions.Command> longPolls =
              ctx.spawn(LongPollSessions.create(edge, longPoll, connections, gate), "long-poll");

          CoordinatedShutdown.get(system)
              .addTask(
                  CoordinatedShutdown.PhaseBeforeServiceUnbind(),
                  "close-client-connections",
                  () -> {
                    connections.tell(ConnectionRegistryActor.CloseAll.INSTANCE);
                    return CompletableFuture.completedFuture(Done.getInstance());
                  });

          PekkoManagement.get(system).start();
          if (node.usesBootstrap()) {
            // Finds the other nodes through Pekko Discovery (Kubernetes API, DNS, config) and
            // joins or forms the cluster; seed nodes are not used.
            ClusterBootstrap.get(system).start();
          }
          ApiSettings api = withDevelopmentApiKey(system, ApiSettings.create(config), gate);
          Route apiRoute = ApiServer.route(system, api);
          Route route =
              Directives.concat(
                  WebSocketRoutes.create(system, edge, connections, gate),
                  BridgeRoutes.create(system, edge, connections, gate),
                  LongPollRoutes.create(
                      system, edge, longPoll, LimitSettings.create(config), longPolls, gate),
                  apiRoute,
                  Directives.pathSingleSlash(
                      () ->
                          Directives.complete(
                              "Switchboard node "
                                  + nodeName
                                  + ": WebSocket at /ws, long-poll at /"
                                  + longPoll.path()
                                  + "\n")));
          if (edge.frontDoor()) {
            // Netty takes the HTTP port and serves WebSockets; Pekko HTTP serves the rest behind
            // it, on a loopback port of its own.
            HttpServer.bind(system, "127.0.0.1", 0, route, "HTTP behind the front door")
                .thenAccept(
                    pekko ->
                        FrontDoor.start(
                            system,
                            node.httpInterface(),
                            node.httpPort(),
                            edge,
                            gate,
                            connections,
                            pekko.localAddress()));
          } else {
            HttpServer.start(system, node, route);
          }
          ApiServer.start(system, node, api, apiRoute);
          return Behaviors.empty();
        });
  }

  /**
   * A node running with development credentials and no API key gets a generated one, logged, so
   * that the one-command local run has a usable backend API; otherwise the API stays closed without
   * keys.
   */
  private static ApiSettings withDevelopmentApiKey(
      ActorSystem<?> system, ApiSettings api, Gatekeeper gate) {
    if (!api.keys().isEmpty() || !gate.generatedCredentials()) {
      return api;
    }
    String key = DevTokens.newApiKey();
    system
        .log()
        .warn(
            "**** DEVELOPMENT API KEY (no switchboard.api.keys configured; changes at every start):"
                + " {} — send it as 'authorization: Bearer <key>' ****",
            key);
    return api.withKeys(java.util.List.of(key));
  }

  /** Auth and per-user limits; the limits count in Redis when the node has one. */
  private static Gatekeeper gatekeeper(ActorSystem<?> system, EdgeSettings edge) {
    var config = system.settings().config();
    RedisSettings redis = RedisSettings.create(config.getConfig(RedisSettings.DEFAULT_PATH));
    CompletionStage<RedissonClient> client =
        redis.hasAddress() ? RedisClients.get(system).client(redis) : null;
    return Gatekeeper.create(
        system,
        AuthSettings.create(config),
        LimitSettings.create(config),
        edge,
        client,
        redis.keyPrefix());
  }
}
