package io.switchboard.node.stream;

import java.util.function.Supplier;

/**
 * The wire encodings of one delivery, computed by the first socket that needs each and shared by
 * every other socket of the node: a publication is encoded once per encoding, not once per socket.
 * Thread-safe; two sockets racing may both encode, and either result is equally valid.
 */
public final class EncodedOnce {
  private volatile Object binary;
  private volatile Object text;

  /** The binary encoding, computing it with {@code encoder} on first use. */
  @SuppressWarnings("unchecked")
  public <T> T binary(Supplier<T> encoder) {
    Object b = binary;
    if (b == null) {
      b = encoder.get();
      binary = b;
    }
    return (T) b;
  }

  /** The text encoding, computing it with {@code encoder} on first use. */
  @SuppressWarnings("unchecked")
  public <T> T text(Supplier<T> encoder) {
    Object t = text;
    if (t == null) {
      t = encoder.get();
      text = t;
    }
    return (T) t;
  }
}
