/**
 * Benchmarks of a running node, not tests: {@link io.switchboard.node.bench.DeliveryBenchmark}
 * starts a node as a separate JVM on loopback ports, drives thousands of WebSocket subscribers of
 * one group from this JVM through a lean non-blocking client ({@link
 * io.switchboard.node.bench.NioWebSockets}), and prints deliveries per second, publish→delivery
 * latency, the node's CPU time per delivery and its memory per idle connection. Run it with {@code
 * scripts/bench-delivery.sh}. Nothing here ships: these are test sources.
 */
package io.switchboard.node.bench;
