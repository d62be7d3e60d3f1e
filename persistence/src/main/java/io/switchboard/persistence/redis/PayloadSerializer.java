package io.switchboard.persistence.redis;

import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.Serialization$;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;

/**
 * Turns payloads (events, snapshots) into serializer id + manifest + bytes through Pekko
 * serialization and back, with transport information set so that payloads holding actor references
 * work as on the wire. Stateless apart from Pekko's own caches; thread-safe.
 */
final class PayloadSerializer {

  /** What Pekko serialization produced for one payload. */
  record Serialized(int serializerId, String manifest, byte[] bytes) {}

  private final ExtendedActorSystem system;
  private final Serialization serialization;

  PayloadSerializer(ExtendedActorSystem system) {
    this.system = system;
    this.serialization = SerializationExtension.get(system);
  }

  /** Serializes a payload; throws whatever the serializer throws for an unserializable one. */
  Serialized serialize(Object payload) {
    Serializer serializer = serialization.findSerializerFor(payload);
    String manifest = Serializers.manifestFor(serializer, payload);
    byte[] bytes =
        Serialization$.MODULE$.withTransportInformation(system, () -> serializer.toBinary(payload));
    return new Serialized(serializer.identifier(), manifest, bytes);
  }

  /** Restores a payload; throws when the serializer is unknown or the bytes do not parse. */
  Object deserialize(int serializerId, String manifest, byte[] bytes) {
    return Serialization$.MODULE$.withTransportInformation(
        system, () -> serialization.deserialize(bytes, serializerId, manifest).get());
  }
}
