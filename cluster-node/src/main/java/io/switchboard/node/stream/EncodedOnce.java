package io.switchboard.node.stream;

import java.util.function.Supplier;

/**
 * The wire encodings of one delivery, computed by the first socket that needs each and shared by
 * every other socket of the node: a publication is encoded once per encoding, not once per socket.
 * Thread-safe; two sockets racing may both encode, and either result is equally valid. The arrays
 * handed out are shared: nobody may write to them.
 *
 * <p>A transport may keep its own wire form of each encoding here too (the WebSocket front door:
 * the complete frame, header included, in memory the kernel can read without a copy), so that a
 * delivery costs each socket no more than a reference to the same bytes.
 */
public final class EncodedOnce {
  private volatile byte[] binary;
  private volatile String json;
  private volatile Object binaryWire;
  private volatile Object jsonWire;

  /** The binary Protobuf encoding, computing it with {@code encoder} on first use. */
  public byte[] binary(Supplier<byte[]> encoder) {
    byte[] b = binary;
    if (b == null) {
      b = encoder.get();
      binary = b;
    }
    return b;
  }

  /** The canonical JSON encoding, computing it with {@code encoder} on first use. */
  public String json(Supplier<String> encoder) {
    String j = json;
    if (j == null) {
      j = encoder.get();
      json = j;
    }
    return j;
  }

  /** The wire form of the JSON ({@code json}) or binary encoding if a socket made it, else null. */
  public Object wireIfMade(boolean json) {
    return json ? jsonWire : binaryWire;
  }

  /**
   * The wire form of the JSON ({@code json}) or binary encoding, made with {@code maker} on first
   * use. Every socket that asks for the same encoding must use the same kind of wire form.
   */
  public Object wire(boolean json, Supplier<?> maker) {
    Object made = json ? jsonWire : binaryWire;
    if (made == null) {
      made = maker.get();
      if (json) {
        jsonWire = made;
      } else {
        binaryWire = made;
      }
    }
    return made;
  }
}
