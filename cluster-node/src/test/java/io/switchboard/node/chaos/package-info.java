/**
 * The cluster chaos run: separate node JVMs on loopback sharing one Redis, resilient clients that
 * fail over and resume, and a timeline of joins, graceful leaves, kills, a rolling restart and a
 * Redis outage; it prints lost, duplicated and out-of-order counts and recovery times.
 */
package io.switchboard.node.chaos;
