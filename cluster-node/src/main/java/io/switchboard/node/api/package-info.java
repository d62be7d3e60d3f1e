/**
 * The backend API ({@code switchboard.v1.Gateway}): {@link
 * io.switchboard.node.api.GatewayServiceImpl} implements every call once, served on gRPC (Pekko
 * gRPC, HTTP/2) and as HTTP/JSON ({@code POST /api/<Call>}, {@link
 * io.switchboard.node.api.ApiRoutes}); {@link io.switchboard.node.api.ApiKeys} checks the bearer
 * key of every call, {@link io.switchboard.node.api.ProtoMapper} maps between the Protobuf messages
 * and the entities' replies, and {@link io.switchboard.node.api.ApiErrors} is the one mapping of
 * failures to gRPC status codes and HTTP statuses.
 */
package io.switchboard.node.api;
