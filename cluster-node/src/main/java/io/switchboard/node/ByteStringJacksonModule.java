package io.switchboard.node;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.google.protobuf.ByteString;
import java.io.IOException;

/**
 * Lets cluster messages carry payloads as Protobuf {@link ByteString} (immutable, value-equal, no
 * copy into events and frames): written as a CBOR byte string. Registered through {@code
 * pekko.serialization.jackson.jackson-modules}.
 */
public final class ByteStringJacksonModule extends SimpleModule {
  private static final long serialVersionUID = 1L;

  /** Registers the serializer and deserializer of {@link ByteString}. */
  public ByteStringJacksonModule() {
    super("switchboard-bytestring");
    addSerializer(
        ByteString.class,
        new JsonSerializer<>() {
          @Override
          public void serialize(ByteString value, JsonGenerator gen, SerializerProvider provider)
              throws IOException {
            gen.writeBinary(value.toByteArray());
          }
        });
    addDeserializer(
        ByteString.class,
        new JsonDeserializer<>() {
          @Override
          public ByteString deserialize(JsonParser p, DeserializationContext ctxt)
              throws IOException {
            return ByteString.copyFrom(p.getBinaryValue());
          }
        });
  }
}
