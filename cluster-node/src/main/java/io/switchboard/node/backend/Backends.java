package io.switchboard.node.backend;

import io.switchboard.node.config.BackendSettings;
import io.switchboard.node.config.NodeSettings;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The node's backend router and settings, for whoever needs them (connections, the API): one {@link
 * BackendRouterActor} per actor system, started with the extension.
 */
public final class Backends implements Extension {

  private static final ExtensionId<Backends> ID =
      new ExtensionId<>() {
        @Override
        public Backends createExtension(ActorSystem<?> system) {
          return new Backends(system);
        }
      };

  /** The extension of {@code system}, started on first use. */
  public static Backends get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private final BackendSettings settings;
  private final ActorRef<BackendRouterActor.Command> router;

  private Backends(ActorSystem<?> system) {
    var config = system.settings().config();
    this.settings = BackendSettings.create(config);
    NodeSettings node = NodeSettings.create(config);
    String address = Cluster.get(system).selfMember().address().toString();
    this.router =
        system.systemActorOf(
            BackendRouterActor.create(address, node.host() + ":" + node.httpPort(), settings),
            "backend-router",
            Props.empty());
  }

  public BackendSettings settings() {
    return settings;
  }

  /** This node's router. */
  public ActorRef<BackendRouterActor.Command> router() {
    return router;
  }
}
