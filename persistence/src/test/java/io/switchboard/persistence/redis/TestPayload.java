package io.switchboard.persistence.redis;

import org.apache.pekko.actor.ActorRef;

/** A payload holding an actor reference, like the TCK's: its serializer needs transport info. */
public record TestPayload(ActorRef ref) {}
