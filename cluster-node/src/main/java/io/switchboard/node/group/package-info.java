/**
 * Groups: the sharded, event-sourced {@link io.switchboard.node.group.GroupEntity} (members and the
 * publication log with gap-free offsets, trimmed by acks and retention) and the node-local fan-out
 * ({@link io.switchboard.node.group.FanoutRegistryActor}, one {@link
 * io.switchboard.node.group.GroupFanoutActor} per group with local sockets) that receives each
 * publication once per node and hands it to every local socket of the group.
 */
package io.switchboard.node.group;
