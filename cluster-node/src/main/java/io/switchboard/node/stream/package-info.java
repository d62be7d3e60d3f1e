/**
 * Streams: the offset-numbered logs every message reaches a browser through ("@" for a session
 * inbox, a group name for a group), the retained log both entities keep, pages read from it, and
 * the messages entities and fan-outs send to a socket. Knows nothing of transports or wire types.
 */
package io.switchboard.node.stream;
