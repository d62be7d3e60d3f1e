package io.switchboard.node.auth;

import io.switchboard.node.config.AuthSettings;
import io.switchboard.node.config.EdgeSettings;
import io.switchboard.node.config.LimitSettings;
import io.switchboard.node.limits.ConnectionSlots;
import io.switchboard.node.limits.UserLimits;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.redisson.api.RedissonClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's door: decides on a WebSocket upgrade (origin, then a token from the {@code
 * Authorization: Bearer} header, the token query parameter or the token cookie, or else the answer
 * of a backend's connect hook), on the token of a Connect, Resume or Refresh frame, and hands each
 * connection its {@link InterceptorChain} and the node's {@link ConnectionSlots}. In JWT mode
 * without any configured key it generates a development secret and logs a token for it; in
 * anonymous mode it says so loudly. Thread-safe: one per node.
 */
public final class Gatekeeper {
  private static final Logger log = LoggerFactory.getLogger(Gatekeeper.class);

  /** What the edge does with an upgrade request. */
  public sealed interface UpgradeDecision {}

  /**
   * Upgrade. {@code identity} is {@link Identity#UNAUTHENTICATED} when no token came with the
   * request: the client must then send it in its Connect or Resume frame.
   */
  public record Proceed(Identity identity) implements UpgradeDecision {}

  /** Answer the request with {@code status} (401, 403) and no socket. */
  public record Refuse(int status, String reason) implements UpgradeDecision {}

  /** The parts of an upgrade request that matter here, extracted by the edge. */
  public record UpgradeRequest(
      Optional<String> origin,
      Optional<String> host,
      Optional<String> authorization,
      Optional<String> queryToken,
      Optional<String> cookieToken) {}

  private final AuthSettings auth;
  private final EdgeSettings edge;
  private final TokenVerifier verifier;
  private final OriginPolicy origins;
  private final Identity anonymous;
  private final List<FrameInterceptor> shared;
  private final ConnectionSlots slots;
  private final String devToken;

  private Gatekeeper(
      AuthSettings auth,
      EdgeSettings edge,
      TokenVerifier verifier,
      List<FrameInterceptor> shared,
      ConnectionSlots slots,
      String devToken) {
    this.auth = auth;
    this.edge = edge;
    this.verifier = verifier;
    this.origins = OriginPolicy.create(auth.allowedOrigins());
    this.anonymous =
        new Identity(
            auth.anonymousUserId(),
            auth.anonymousJoin().stream().map(GroupPattern::new).toList(),
            auth.anonymousPublish().stream().map(GroupPattern::new).toList(),
            null,
            Identity.Kind.ANONYMOUS);
    this.shared = shared;
    this.slots = slots;
    this.devToken = devToken;
  }

  /**
   * The gatekeeper of a node. Per-user limits count in the Redis of {@code redis} (keys under
   * {@code redisKeyPrefix}) when it is given, on this node otherwise.
   *
   * @throws IllegalArgumentException on unusable keys or interceptor classes (the node must not
   *     start half-protected)
   */
  public static Gatekeeper create(
      ActorSystem<?> system,
      AuthSettings auth,
      LimitSettings limits,
      EdgeSettings edge,
      CompletionStage<RedissonClient> redis,
      String redisKeyPrefix) {
    TokenVerifier verifier = null;
    String devToken = null;
    if (auth.mode() == AuthSettings.Mode.ANONYMOUS) {
      log.warn(
          "**** ANONYMOUS MODE (switchboard.auth.mode = anonymous): every connection is accepted"
              + " WITHOUT credentials as user [{}]; never run this way in production ****",
          auth.anonymousUserId());
    } else if (auth.hasNoKeys()) {
      String secret = DevTokens.newSecret();
      verifier = TokenVerifier.create(auth, List.of(secret), limits.maxTokenSize());
      devToken =
          DevTokens.mint(secret, auth.devUserId(), List.of("*"), List.of("*"), auth.devTokenTtl());
      log.warn(
          "**** DEVELOPMENT CREDENTIALS: no key configured in switchboard.auth, so this node made"
              + " a random HMAC secret [{}] (it changes at every start). Development token for"
              + " user [{}], may join and publish everywhere, valid {}:\n{}\n"
              + "Connect with ws://HOST:PORT/ws?token=<token>. Configure hmac-secret, public-keys"
              + " or jwks-file for real use ****",
          secret,
          auth.devUserId(),
          auth.devTokenTtl(),
          devToken);
    } else {
      verifier = TokenVerifier.create(auth, List.of(), limits.maxTokenSize());
      log.info(
          "Auth: JWT signed with {} (user claim [{}], clock skew {})",
          verifier.algorithms(),
          auth.userClaim(),
          auth.clockSkew());
    }

    UserLimits perUser = UserLimits.create(system, limits, redis, redisKeyPrefix);
    List<FrameInterceptor> shared = new ArrayList<>();
    shared.add(new UserRateInterceptor(perUser.frames()));
    shared.add(new SizeLimitInterceptor(limits));
    shared.add(new AclInterceptor());
    if (auth.connectHook() && auth.mode() == AuthSettings.Mode.JWT) {
      shared.add(new ConnectHookGuard(auth.connectHookPath()));
      log.info(
          "Connect hook: upgrades without a token are decided by the worker serving CONNECT {}",
          auth.connectHookPath());
    }
    for (String className : auth.interceptors()) {
      shared.add(instantiate(className, system));
      log.info("Frame interceptor [{}] installed", className);
    }
    return new Gatekeeper(auth, edge, verifier, shared, perUser.connections(), devToken);
  }

  /**
   * Whether a browser page of {@code origin} may talk to this node (allowed origins, or same host).
   */
  public boolean allowsOrigin(Optional<String> origin, Optional<String> host) {
    return origins.allows(origin, host);
  }

  /** Decides on an upgrade: 403 for a foreign origin, 401 for a token that does not verify. */
  public UpgradeDecision admitUpgrade(UpgradeRequest request) {
    if (!origins.allows(request.origin(), request.host())) {
      return new Refuse(403, "origin not allowed");
    }
    if (anonymousMode()) {
      return new Proceed(anonymous);
    }
    Optional<String> token =
        bearer(request.authorization())
            .or(() -> nonBlank(request.queryToken()))
            .or(() -> nonBlank(request.cookieToken()));
    if (token.isEmpty()) {
      return auth.requireTokenAtUpgrade()
          ? new Refuse(401, "token required")
          : new Proceed(Identity.UNAUTHENTICATED);
    }
    TokenVerifier.Result result = verifier.verify(token.get());
    if (result instanceof TokenVerifier.Verified v) {
      return new Proceed(v.identity());
    }
    return new Refuse(401, ((TokenVerifier.Rejected) result).reason());
  }

  /**
   * Who sends a Connect or Resume carrying {@code frameToken} (empty when none) on a connection
   * that is {@code current} so far: the frame's token when it has one, else the identity proven at
   * the upgrade (if it has not expired since), else no one.
   */
  public TokenVerifier.Result atHello(Identity current, String frameToken) {
    if (anonymousMode()) {
      return new TokenVerifier.Verified(anonymous);
    }
    if (frameToken != null && !frameToken.isBlank()) {
      return verifier.verify(frameToken);
    }
    if (current.authenticated()) {
      Optional<Instant> deadline = closeAt(current);
      return deadline.isPresent() && deadline.get().isBefore(Instant.now())
          ? new TokenVerifier.Rejected("token expired")
          : new TokenVerifier.Verified(current);
    }
    return new TokenVerifier.Rejected(
        "no token: send one at the upgrade (Authorization: Bearer, ?"
            + auth.queryParameter()
            + "=) or in Connect/Resume.token");
  }

  /** Whether upgrades without a token are decided by a backend worker's connect hook. */
  public boolean usesConnectHook() {
    return !anonymousMode() && auth.connectHook();
  }

  /** The path the connect hook is asked at (method CONNECT). */
  public String connectHookPath() {
    return auth.connectHookPath();
  }

  /** How long the connect hook has to answer. */
  public Duration connectHookTimeout() {
    return auth.connectHookTimeout();
  }

  /**
   * The connect hook's answer ({@link ConnectHookAnswer}): 2xx naming a user admits the upgrade;
   * 401 and 403 are passed on; anything else is 403.
   */
  public UpgradeDecision hookAnswer(int status, Map<String, String> headers) {
    return ConnectHookAnswer.decide(status, headers);
  }

  /** The connect hook could not be asked (no worker, worker gone, no answer in time). */
  public UpgradeDecision hookUnavailable(String reason) {
    return new Refuse(503, "connect hook unavailable: " + reason);
  }

  /** A Refresh: the new token must verify and name the same user. */
  public TokenVerifier.Result refresh(Identity current, String token) {
    if (anonymousMode()) {
      return new TokenVerifier.Rejected("this node does not use token auth");
    }
    TokenVerifier.Result result = verifier.verify(token);
    if (result instanceof TokenVerifier.Verified v
        && !v.identity().userId().equals(current.userId())) {
      return new TokenVerifier.Rejected("a refreshed token must be for the same user");
    }
    return result;
  }

  /** When a connection of {@code identity} is closed for expiry: {@code exp} plus the skew. */
  public Optional<Instant> closeAt(Identity identity) {
    Duration skew = verifier == null ? Duration.ZERO : verifier.clockSkew();
    return identity.expiry().map(exp -> exp.plus(skew));
  }

  /** How long before {@link #closeAt} a connection is sent {@code TokenExpiring}. */
  public Duration expiryWarning() {
    return auth.tokenExpiryWarning();
  }

  /** A fresh chain for a new connection. */
  public InterceptorChain newChain() {
    return new InterceptorChain(
        new ConnectionRateInterceptor(edge.framesPerSecond(), edge.frameBurst()),
        shared,
        edge.framesPerSecond());
  }

  /** Connections per user. */
  public ConnectionSlots slots() {
    return slots;
  }

  /** Whether every connection is the shared anonymous user. */
  public boolean anonymousMode() {
    return auth.mode() == AuthSettings.Mode.ANONYMOUS;
  }

  /** The query parameter and cookie the edge reads a token from (cookie: empty when none). */
  public String queryParameter() {
    return auth.queryParameter();
  }

  /** The name of the cookie holding a token; empty when tokens are not read from cookies. */
  public String cookieName() {
    return auth.cookieName();
  }

  /**
   * Whether this node generated its own development credentials (JWT mode without any configured
   * key). Such a node also generates a backend API key when none is configured; an anonymous node
   * does not (its API stays closed without keys).
   */
  public boolean generatedCredentials() {
    return devToken != null;
  }

  /** The development token this node generated, when it runs without configured keys. */
  public Optional<String> devToken() {
    return Optional.ofNullable(devToken);
  }

  private static Optional<String> bearer(Optional<String> authorization) {
    return authorization
        .map(String::trim)
        .filter(h -> h.toLowerCase(Locale.ROOT).startsWith("bearer "))
        .map(h -> h.substring("bearer ".length()).trim())
        .filter(t -> !t.isEmpty());
  }

  private static Optional<String> nonBlank(Optional<String> value) {
    return value.map(String::trim).filter(v -> !v.isEmpty());
  }

  static FrameInterceptor instantiate(String className, ActorSystem<?> system) {
    try {
      Class<?> type = Class.forName(className, true, Gatekeeper.class.getClassLoader());
      if (!FrameInterceptor.class.isAssignableFrom(type)) {
        throw new IllegalArgumentException(className + " does not implement FrameInterceptor");
      }
      for (Constructor<?> c : type.getConstructors()) {
        if (c.getParameterCount() == 1 && c.getParameterTypes()[0].isInstance(system)) {
          return (FrameInterceptor) c.newInstance(system);
        }
      }
      return (FrameInterceptor) type.getConstructor().newInstance();
    } catch (ClassNotFoundException
        | NoSuchMethodException
        | InstantiationException
        | IllegalAccessException e) {
      throw new IllegalArgumentException("Cannot create frame interceptor " + className, e);
    } catch (InvocationTargetException e) {
      throw new IllegalArgumentException(
          "Frame interceptor " + className + " failed to start", e.getCause());
    }
  }
}
