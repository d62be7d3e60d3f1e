/**
 * Sessions: the sharded, event-sourced {@link io.switchboard.node.session.SessionEntity}, the
 * identity of a browser connection across reconnects and nodes (user, resume token hash, group
 * memberships, inbox of direct messages, attached socket), and what erases an ended session's
 * journal.
 */
package io.switchboard.node.session;
