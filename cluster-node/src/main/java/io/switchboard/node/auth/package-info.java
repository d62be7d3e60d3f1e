/**
 * Who a client is and what it may do. {@link io.switchboard.node.auth.TokenVerifier} checks JWTs
 * (HMAC secrets, RSA/EC public keys or a JWKS file, algorithms pinned to the key types) and turns
 * their claims into an {@link io.switchboard.node.auth.Identity}; {@link
 * io.switchboard.node.auth.OriginPolicy} refuses cross-site WebSocket upgrades; {@link
 * io.switchboard.node.auth.Gatekeeper} is the node-wide entry point the edge calls at the upgrade
 * and at Connect. Every client frame then passes an {@link
 * io.switchboard.node.auth.InterceptorChain} of {@link io.switchboard.node.auth.FrameInterceptor}s
 * (rate, size, ACL, user-defined) that may refuse it with a clear error. Nothing here imports Pekko
 * HTTP: the edge extracts headers and hands over plain values.
 */
package io.switchboard.node.auth;
