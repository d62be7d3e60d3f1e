package io.switchboard.node.api;

import io.switchboard.node.backend.BackendRouterActor;
import io.switchboard.node.backend.Backends;
import io.switchboard.node.config.ApiSettings;
import io.switchboard.node.group.GroupEntity;
import io.switchboard.node.session.SessionEntity;
import io.switchboard.node.stream.Page;
import io.switchboard.node.stream.Socket;
import io.switchboard.node.stream.StreamNames;
import io.switchboard.protocol.CloseCode;
import io.switchboard.protocol.v1.AskRequest;
import io.switchboard.protocol.v1.AskResponse;
import io.switchboard.protocol.v1.DisconnectRequest;
import io.switchboard.protocol.v1.DisconnectResponse;
import io.switchboard.protocol.v1.GatewayFrame;
import io.switchboard.protocol.v1.GatewayPowerApi;
import io.switchboard.protocol.v1.HistoryRequest;
import io.switchboard.protocol.v1.HistoryResponse;
import io.switchboard.protocol.v1.InfoRequest;
import io.switchboard.protocol.v1.InfoResponse;
import io.switchboard.protocol.v1.JoinRequest;
import io.switchboard.protocol.v1.JoinResponse;
import io.switchboard.protocol.v1.LeaveRequest;
import io.switchboard.protocol.v1.LeaveResponse;
import io.switchboard.protocol.v1.PresenceRequest;
import io.switchboard.protocol.v1.PresenceResponse;
import io.switchboard.protocol.v1.PublishRequest;
import io.switchboard.protocol.v1.PublishResponse;
import io.switchboard.protocol.v1.SendRequest;
import io.switchboard.protocol.v1.SendResponse;
import io.switchboard.protocol.v1.WorkerFrame;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Every call of the backend API, once, for gRPC and HTTP/JSON alike: checks the API key of the
 * call's metadata, validates the request, asks the entities (session, group, user) or the backend
 * registry, and maps their answers ({@link ProtoMapper}) and failures ({@link ApiErrors}).
 * Thread-safe: it holds no mutable state.
 */
public final class GatewayServiceImpl implements GatewayPowerApi {
  private static final int MAX_KEY_LENGTH = 200;

  private final ApiSettings settings;
  private final ApiKeys keys;
  private final ClusterSharding sharding;
  private final Backends backends;
  private final ClusterInfo clusterInfo;
  private final Materializer materializer;
  private final SessionTargets targets;

  public GatewayServiceImpl(ActorSystem<?> system, ApiSettings settings) {
    this.settings = settings;
    this.keys = new ApiKeys(settings.keys());
    this.sharding = ClusterSharding.get(system);
    this.backends = Backends.get(system);
    this.clusterInfo = new ClusterInfo(system, backends.router(), settings.askTimeout());
    this.materializer = Materializer.matFromSystem(system);
    this.targets = new SessionTargets(system, settings.askTimeout());
  }

  /** Whether any API key is configured (without one, every call is refused). */
  public boolean hasKeys() {
    return keys.configured();
  }

  @Override
  public CompletionStage<PublishResponse> publish(PublishRequest in, Metadata metadata) {
    return call(
        metadata,
        () -> {
          String groupId = validGroup(in.getGroup());
          if (in.getIdempotencyKey().length() > MAX_KEY_LENGTH) {
            throw ApiErrors.invalid("idempotency_key longer than " + MAX_KEY_LENGTH);
          }
          return group(groupId)
              .<GroupEntity.Receipt>askWithStatus(
                  replyTo ->
                      new GroupEntity.Publish(in.getPayload(), in.getIdempotencyKey(), replyTo),
                  settings.askTimeout())
              .thenApply(receipt -> ProtoMapper.published(groupId, receipt));
        });
  }

  @Override
  public CompletionStage<SendResponse> send(SendRequest in, Metadata metadata) {
    return call(
        metadata,
        () ->
            targets
                .forEach(
                    targets.of(
                        in.hasSessionId(), in.getSessionId(), in.hasUserId(), in.getUserId()),
                    (sessionId, session) ->
                        session
                            .<SessionEntity.Queued>askWithStatus(
                                replyTo -> new SessionEntity.SendDirect(in.getPayload(), replyTo),
                                settings.askTimeout())
                            .thenApply(q -> ProtoMapper.sessionOffset(sessionId, q.offset())))
                .thenApply(sent -> SendResponse.newBuilder().addAllSessions(sent).build()));
  }

  @Override
  public CompletionStage<JoinResponse> join(JoinRequest in, Metadata metadata) {
    return call(
        metadata,
        () -> {
          String groupId = validGroup(in.getGroup());
          return targets
              .forEach(
                  targets.of(in.hasSessionId(), in.getSessionId(), in.hasUserId(), in.getUserId()),
                  (sessionId, session) ->
                      session
                          .<SessionEntity.Joined>askWithStatus(
                              replyTo -> new SessionEntity.JoinGroup(groupId, replyTo),
                              settings.askTimeout())
                          .thenApply(
                              joined -> {
                                // The attached browser learns it from its socket, not a reply.
                                session.tell(
                                    new SessionEntity.NotifySocket(
                                        new Socket.Membership(groupId, true, joined.head())));
                                return ProtoMapper.sessionOffset(sessionId, joined.head());
                              }))
              .thenApply(joined -> JoinResponse.newBuilder().addAllSessions(joined).build());
        });
  }

  @Override
  public CompletionStage<LeaveResponse> leave(LeaveRequest in, Metadata metadata) {
    return call(
        metadata,
        () -> {
          String groupId = validGroup(in.getGroup());
          return targets
              .forEach(
                  targets.of(in.hasSessionId(), in.getSessionId(), in.hasUserId(), in.getUserId()),
                  (sessionId, session) ->
                      session
                          .<Done>askWithStatus(
                              replyTo -> new SessionEntity.LeaveGroup(groupId, replyTo),
                              settings.askTimeout())
                          .thenApply(
                              done -> {
                                session.tell(
                                    new SessionEntity.NotifySocket(
                                        new Socket.Membership(groupId, false, 0)));
                                return sessionId;
                              }))
              .thenApply(left -> LeaveResponse.newBuilder().addAllSessionIds(left).build());
        });
  }

  @Override
  public CompletionStage<DisconnectResponse> disconnect(DisconnectRequest in, Metadata metadata) {
    return call(
        metadata,
        () -> {
          int code = in.getCloseCode() == 0 ? CloseCode.SESSION_ENDED.code() : in.getCloseCode();
          if (code != CloseCode.SESSION_ENDED.code() && !CloseCode.isApplication(code)) {
            throw ApiErrors.invalid("close_code must be 0 or 4000-4999, not " + code);
          }
          String reason = in.getReason().isBlank() ? "disconnected by the backend" : in.getReason();
          return targets
              .forEach(
                  targets.of(in.hasSessionId(), in.getSessionId(), in.hasUserId(), in.getUserId()),
                  (sessionId, session) ->
                      session
                          .<Done>askWithStatus(
                              replyTo -> new SessionEntity.End(reason, code, replyTo),
                              settings.askTimeout())
                          .thenApply(done -> sessionId))
              .thenApply(ended -> DisconnectResponse.newBuilder().addAllSessionIds(ended).build());
        });
  }

  @Override
  public CompletionStage<PresenceResponse> presence(PresenceRequest in, Metadata metadata) {
    return call(
        metadata,
        () -> {
          String groupId = validGroup(in.getGroup());
          return group(groupId)
              .ask(GroupEntity.Inspect::new, settings.askTimeout())
              .thenCompose(info -> presence(groupId, info));
        });
  }

  private CompletionStage<PresenceResponse> presence(String groupId, GroupEntity.Info info) {
    List<String> members = info.members().stream().sorted().toList();
    int shown = Math.min(members.size(), settings.presenceMaxMembers());
    List<CompletableFuture<SessionEntity.Info>> sessions = new ArrayList<>();
    for (String sessionId : members.subList(0, shown)) {
      sessions.add(
          session(sessionId)
              .ask(SessionEntity.Inspect::new, settings.askTimeout())
              .toCompletableFuture());
    }
    return CompletableFuture.allOf(sessions.toArray(CompletableFuture[]::new))
        .thenApply(
            done -> {
              PresenceResponse.Builder b =
                  PresenceResponse.newBuilder()
                      .setGroup(groupId)
                      .setHead(info.head())
                      .setTruncated(shown < members.size());
              for (CompletableFuture<SessionEntity.Info> s : sessions) {
                SessionEntity.Info session = s.join();
                if (session.active()) {
                  b.addMembers(ProtoMapper.member(session));
                }
              }
              return b.build();
            });
  }

  @Override
  public CompletionStage<HistoryResponse> history(HistoryRequest in, Metadata metadata) {
    return call(
        metadata,
        () -> {
          String groupId = validGroup(in.getGroup());
          int max = settings.historyMaxPage();
          int limit = in.getLimit() == 0 ? max : Math.min(in.getLimit(), max);
          long from = in.getAfterOffset() < 0 ? Long.MAX_VALUE : in.getAfterOffset() + 1;
          return group(groupId)
              .<Page>ask(
                  replyTo -> new GroupEntity.Read(from, limit, replyTo), settings.askTimeout())
              .thenApply(page -> ProtoMapper.history(groupId, page));
        });
  }

  @Override
  public CompletionStage<AskResponse> ask(AskRequest in, Metadata metadata) {
    return call(
        metadata,
        () -> {
          if (in.getSessionId().isBlank()) {
            throw ApiErrors.invalid("session_id is empty");
          }
          if (in.getMethod().isBlank() || !in.getPath().startsWith("/")) {
            throw ApiErrors.invalid("Ask needs a method and a path starting with /");
          }
          Duration timeout = settings.clientAskTimeout(in.getTimeoutMs());
          CompletionStage<Socket.AskReply> reply =
              session(in.getSessionId())
                  .askWithStatus(
                      replyTo ->
                          new SessionEntity.AskClient(
                              new Socket.Ask(
                                  in.getMethod(),
                                  in.getPath(),
                                  Map.copyOf(in.getHeadersMap()),
                                  in.getBody(),
                                  timeout.toMillis(),
                                  replyTo)),
                      timeout);
          return reply.handle(
              (answer, failure) -> {
                if (failure == null) {
                  return ProtoMapper.askReply(answer);
                }
                if (ApiErrors.unwrap(failure) instanceof TimeoutException) {
                  throw ApiErrors.deadline("no reply within " + timeout.toMillis() + " ms");
                }
                throw ApiErrors.from(failure);
              });
        });
  }

  @Override
  public CompletionStage<InfoResponse> info(InfoRequest in, Metadata metadata) {
    return call(metadata, clusterInfo::info);
  }

  @Override
  public Source<GatewayFrame, NotUsed> serve(Source<WorkerFrame, NotUsed> in, Metadata metadata) {
    Optional<String> refusal = keys.refusal(metadata.getText("authorization"));
    if (refusal.isPresent()) {
      in.runWith(Sink.cancelled(), materializer); // the refused worker's frames are not read
      return Source.failed(ApiErrors.unauthenticated(refusal.get()));
    }
    Pair<BoundedSourceQueue<GatewayFrame>, Source<GatewayFrame, NotUsed>> out =
        Source.<GatewayFrame>queue(backends.settings().workerBuffer()).preMaterialize(materializer);
    CompletableFuture<Done> outboundDone = new CompletableFuture<>();
    backends
        .router()
        .tell(
            new BackendRouterActor.SpawnWorker(
                in,
                new GrpcWorkerOutlet(out.first()),
                outboundDone,
                metadata.getText("user-agent").orElse("unknown client")));
    return out.second()
        .watchTermination(
            (notUsed, done) -> {
              done.whenComplete((d, failure) -> outboundDone.complete(Done.getInstance()));
              return NotUsed.notUsed();
            });
  }

  // ---- helpers

  /** Checks the key, runs the call, and turns every failure into a gRPC status. */
  private <T> CompletionStage<T> call(Metadata metadata, Supplier<CompletionStage<T>> body) {
    CompletableFuture<T> result = new CompletableFuture<>();
    Optional<String> refusal = keys.refusal(metadata.getText("authorization"));
    if (refusal.isPresent()) {
      result.completeExceptionally(ApiErrors.unauthenticated(refusal.get()));
      return result;
    }
    try {
      body.get()
          .whenComplete(
              (value, failure) -> {
                if (failure == null) {
                  result.complete(value);
                } else {
                  result.completeExceptionally(ApiErrors.from(failure));
                }
              });
    } catch (RuntimeException invalid) {
      result.completeExceptionally(ApiErrors.from(invalid));
    }
    return result;
  }

  private static String validGroup(String groupId) {
    if (!StreamNames.isValidGroup(groupId)) {
      throw ApiErrors.invalid(
          "invalid group name: 1-"
              + StreamNames.MAX_GROUP_LENGTH
              + " characters, no whitespace, not starting with @");
    }
    return groupId;
  }

  private EntityRef<GroupEntity.Command> group(String groupId) {
    return sharding.entityRefFor(GroupEntity.ENTITY_KEY, groupId);
  }

  private EntityRef<SessionEntity.Command> session(String sessionId) {
    return sharding.entityRefFor(SessionEntity.ENTITY_KEY, sessionId);
  }
}
