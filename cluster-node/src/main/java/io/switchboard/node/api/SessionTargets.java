package io.switchboard.node.api;

import io.grpc.Status;
import io.switchboard.node.config.AuthSettings;
import io.switchboard.node.session.SessionEntity;
import io.switchboard.node.user.UserEntity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * Whom the session calls (Send, Join, Leave, Disconnect) act on: one session, or every current
 * session of a user, found in the user index ({@link UserEntity}). Stateless, thread-safe.
 */
final class SessionTargets {

  /** One session ({@code userId} null), or every session of a user ({@code sessionId} null). */
  record Target(String sessionId, String userId) {}

  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final Optional<String> sharedUserId;

  SessionTargets(ActorSystem<?> system, Duration askTimeout) {
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
    this.sharedUserId = UserEntity.sharedUserId(AuthSettings.create(system.settings().config()));
  }

  /** The target of a request's {@code oneof target}; INVALID_ARGUMENT when it names nobody. */
  Target of(boolean hasSession, String sessionId, boolean hasUser, String userId) {
    if (hasSession) {
      if (sessionId.isBlank()) {
        throw ApiErrors.invalid("session_id is empty");
      }
      return new Target(sessionId, null);
    }
    if (hasUser) {
      if (!UserEntity.isIndexed(userId)) {
        throw ApiErrors.invalid("user_id is empty");
      }
      if (sharedUserId.isPresent() && sharedUserId.get().equals(userId)) {
        throw ApiErrors.invalid(
            "in anonymous auth mode every connection is user ["
                + userId
                + "]: address sessions by session_id");
      }
      return new Target(null, userId);
    }
    throw ApiErrors.invalid("give session_id or user_id");
  }

  /**
   * Runs {@code op} on the target session, or on every current session of the target user in
   * parallel. A user's session that turns out not to exist is dropped from the user's index and
   * from the result; any other failure fails the call (the operation may have reached some of the
   * user's sessions: the calls are idempotent except Send).
   */
  <R> CompletionStage<List<R>> forEach(
      Target target, BiFunction<String, EntityRef<SessionEntity.Command>, CompletionStage<R>> op) {
    if (target.userId() == null) {
      return op.apply(target.sessionId(), session(target.sessionId())).thenApply(List::of);
    }
    return sharding
        .entityRefFor(UserEntity.ENTITY_KEY, target.userId())
        .ask(UserEntity.GetSessions::new, askTimeout)
        .thenCompose(
            user -> {
              List<CompletableFuture<Optional<R>>> each = new ArrayList<>();
              for (String sessionId : user.sessionIds()) {
                each.add(
                    op.apply(sessionId, session(sessionId))
                        .handle((r, failure) -> found(target.userId(), sessionId, r, failure))
                        .toCompletableFuture());
              }
              return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                  .thenApply(
                      done ->
                          each.stream()
                              .map(CompletableFuture::join)
                              .flatMap(Optional::stream)
                              .toList());
            });
  }

  private <R> Optional<R> found(String userId, String sessionId, R result, Throwable failure) {
    if (failure == null) {
      return Optional.of(result);
    }
    var status = ApiErrors.from(failure);
    if (status.status().getCode() != Status.Code.NOT_FOUND) {
      throw status;
    }
    UserEntity.sessionEnded(sharding, userId, sessionId); // a stale entry of the index
    return Optional.empty();
  }

  private EntityRef<SessionEntity.Command> session(String sessionId) {
    return sharding.entityRefFor(SessionEntity.ENTITY_KEY, sessionId);
  }
}
