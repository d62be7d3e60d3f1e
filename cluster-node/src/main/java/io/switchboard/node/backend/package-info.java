/**
 * Backends: how browser requests reach backend workers and how their answers come back. A worker
 * holds a Serve stream to any node, where a {@link io.switchboard.node.backend.WorkerActor}
 * represents it; every node's {@link io.switchboard.node.backend.BackendRouterActor} knows every
 * worker's routes in the cluster (workers tell each router, routers watch workers), matches a
 * request's method and path against the route templates ({@link
 * io.switchboard.node.backend.RouteTable}) and balances requests over all workers of the best
 * route. Every request gets exactly one answer: the worker's reply, no route, backend gone or (at
 * the asker) timeout.
 */
package io.switchboard.node.backend;
