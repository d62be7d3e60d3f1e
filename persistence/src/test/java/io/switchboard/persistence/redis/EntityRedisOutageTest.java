package io.switchboard.persistence.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.persistence.embedded.RedisServerExtension;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** An event-sourced entity on the plugin rides out a Redis outage by backing off. */
@ExtendWith({TestKitJUnit5Extension.class, LogCapturingExtension.class})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EntityRedisOutageTest {

  @RegisterExtension static final RedisServerExtension redis = RedisServerExtension.create();

  @JUnit5TestKit
  final ActorTestKit testKit =
      new JUnit5TestKitBuilder().withCustomConfig(TestConfig.forServer(redis)).build();

  @Test
  void anEntityBacksOffWhileRedisIsDownAndKeepsItsStateAfterwards() {
    String counterId = "counter-" + UUID.randomUUID();
    TestProbe<String> lifecycle = testKit.createTestProbe();
    TestProbe<CounterEntity.State> replies = testKit.createTestProbe();
    ActorRef<CounterEntity.Command> counter =
        testKit.spawn(CounterEntity.create(counterId, lifecycle.getRef()));
    lifecycle.expectMessage("recovered []");
    for (int i = 1; i <= 3; i++) {
      counter.tell(new CounterEntity.Add(i, replies.getRef()));
    }
    replies.expectMessage(new CounterEntity.State(List.of(1)));
    replies.expectMessage(new CounterEntity.State(List.of(1, 2)));
    replies.expectMessage(new CounterEntity.State(List.of(1, 2, 3)));

    redis.server().stop();
    counter.tell(new CounterEntity.Add(4, replies.getRef()));
    // the write fails, the entity restarts with backoff, and its recovery fails while Redis is down
    lifecycle.expectMessage(Duration.ofSeconds(10), "recovery failed");

    redis.server().start();
    String recovered =
        lifecycle
            .fishForMessage(
                Duration.ofSeconds(15),
                message ->
                    message.startsWith("recovered")
                        ? FishingOutcomes.complete()
                        : FishingOutcomes.continueAndIgnore())
            .get(0);
    assertEquals("recovered [1, 2, 3]", recovered);
    replies.expectNoMessage(Duration.ofMillis(50));

    counter.tell(new CounterEntity.Add(5, replies.getRef()));
    replies.expectMessage(new CounterEntity.State(List.of(1, 2, 3, 5)));

    // a new incarnation replays exactly the confirmed events from Redis
    testKit.stop(counter);
    testKit.spawn(CounterEntity.create(counterId, lifecycle.getRef()));
    lifecycle.expectMessage("recovered [1, 2, 3, 5]");
  }
}
