package io.switchboard.node.stream;

import com.google.protobuf.ByteString;

/** One message of a stream, at its gap-free offset (the first message of a stream has offset 1). */
public record Publication(long offset, ByteString payload, long timestampMs) {}
