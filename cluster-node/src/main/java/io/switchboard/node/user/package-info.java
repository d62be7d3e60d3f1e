/**
 * Users: the sharded, event-sourced {@link io.switchboard.node.user.UserEntity}, an index of the
 * current sessions of each user, kept by the sessions themselves (they add themselves when they
 * start and remove themselves when they end). The backend API uses it to address "every session of
 * a user".
 */
package io.switchboard.node.user;
