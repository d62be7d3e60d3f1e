package io.switchboard.node.bridge;

import io.switchboard.node.config.BridgeSettings;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/** The node's bridge routes, read once per actor system, for the routes and the sessions. */
public final class Bridges implements Extension {

  private static final ExtensionId<Bridges> ID =
      new ExtensionId<>() {
        @Override
        public Bridges createExtension(ActorSystem<?> system) {
          return new Bridges(BridgeSettings.create(system.settings().config()));
        }
      };

  /** The extension of {@code system}. */
  public static Bridges get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  private final BridgeSettings settings;

  private Bridges(BridgeSettings settings) {
    this.settings = settings;
  }

  public BridgeSettings settings() {
    return settings;
  }
}
