/**
 * Typed settings of the node. These are the only classes that read {@code Config}; each is built
 * once with {@code create(Config)} from the {@code switchboard { }} tree (reference.conf documents
 * every key) and is immutable.
 */
package io.switchboard.node.config;
