/**
 * The baseline of the load tests: a bare Pekko HTTP WebSocket broadcast server that speaks just
 * enough of Switchboard's JSON protocol for the same Gatling simulations to run against it, with no
 * persistence, no cluster and no auth. What the node costs beyond it is the cost of durability and
 * the guarantees.
 */
package io.switchboard.loadtest.baseline;
