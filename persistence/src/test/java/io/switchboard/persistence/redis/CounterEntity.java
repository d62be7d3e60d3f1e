package io.switchboard.persistence.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.RecoveryFailed;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * A minimal event-sourced entity for the plugin's tests: it appends numbers and restarts with
 * backoff when the journal fails, the way application entities are meant to use the plugin. It
 * reports "recovered [..]" and "recovery failed" to a lifecycle probe.
 */
final class CounterEntity
    extends EventSourcedBehavior<CounterEntity.Command, CounterEntity.Added, CounterEntity.State> {

  sealed interface Command {}

  record Add(int value, ActorRef<State> replyTo) implements Command {}

  record Added(int value) {}

  record State(List<Integer> values) {
    State plus(int value) {
      List<Integer> next = new ArrayList<>(values);
      next.add(value);
      return new State(List.copyOf(next));
    }
  }

  private final ActorRef<String> lifecycle;

  private CounterEntity(String counterId, ActorRef<String> lifecycle) {
    super(
        PersistenceId.ofUniqueId(counterId),
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(1), 0.1));
    this.lifecycle = lifecycle;
  }

  static Behavior<Command> create(String counterId, ActorRef<String> lifecycle) {
    return new CounterEntity(counterId, lifecycle);
  }

  @Override
  public State emptyState() {
    return new State(List.of());
  }

  @Override
  public CommandHandler<Command, Added, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(
            Add.class,
            (state, cmd) ->
                Effect().persist(new Added(cmd.value())).thenReply(cmd.replyTo(), s -> s))
        .build();
  }

  @Override
  public EventHandler<State, Added> eventHandler() {
    return newEventHandlerBuilder()
        .forAnyState()
        .onEvent(Added.class, (state, evt) -> state.plus(evt.value()))
        .build();
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(), state -> lifecycle.tell("recovered " + state.values()))
        .onSignal(RecoveryFailed.class, (state, signal) -> lifecycle.tell("recovery failed"))
        .build();
  }
}
