/**
 * Gatling simulations of Switchboard (Java DSL) and what they need around them: the processes under
 * test ({@link io.switchboard.loadtest.LocalTarget}: Redis, nodes, worker, baseline server, each
 * its own JVM or process on loopback), tokens, the JSON frames of {@code switchboard.v1.json}, and
 * the client-side bookkeeping that checks every delivery by offset and measures publish→delivery
 * latency (which Gatling's request model cannot time: deliveries are not replies).
 */
package io.switchboard.loadtest;
