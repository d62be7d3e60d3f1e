package io.switchboard.persistence.redis;

import java.io.NotSerializableException;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Serializes the tests' payloads: {@link TestPayload} through the actor path of its reference
 * (which needs the transport information the plugin must set), and {@link CounterEntity.Added}.
 */
public final class TestSerializer extends SerializerWithStringManifest {

  private final ExtendedActorSystem system;

  /** Created by Pekko serialization. */
  public TestSerializer(ExtendedActorSystem system) {
    this.system = system;
  }

  @Override
  public int identifier() {
    return 730_001;
  }

  @Override
  public String manifest(Object o) {
    if (o instanceof TestPayload) return "P";
    if (o instanceof CounterEntity.Added) return "A";
    throw new IllegalArgumentException("Not a test payload: " + o.getClass());
  }

  @Override
  public byte[] toBinary(Object o) {
    String text;
    if (o instanceof TestPayload p) text = Serialization.serializedActorPath(p.ref());
    else if (o instanceof CounterEntity.Added a) text = Integer.toString(a.value());
    else throw new IllegalArgumentException("Not a test payload: " + o.getClass());
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    String text = new String(bytes, StandardCharsets.UTF_8);
    return switch (manifest) {
      case "P" -> new TestPayload(system.provider().resolveActorRef(text));
      case "A" -> new CounterEntity.Added(Integer.parseInt(text));
      default -> throw new NotSerializableException("Unknown manifest " + manifest);
    };
  }
}
