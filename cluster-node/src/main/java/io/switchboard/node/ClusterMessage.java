package io.switchboard.node;

/**
 * Marker for messages that may cross node boundaries (entity commands and replies, fan-out and
 * socket messages). Bound to Jackson CBOR in pekko-node.conf; Pekko ships no such marker for
 * application code. Persisted events do not use it: they are Protobuf messages.
 */
public interface ClusterMessage {}
