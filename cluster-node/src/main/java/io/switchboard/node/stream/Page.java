package io.switchboard.node.stream;

import io.switchboard.node.ClusterMessage;
import java.util.List;

/**
 * A slice of a stream's retained log, read from some offset. {@code firstOffset} is the oldest
 * offset still retained: a reader that asked for less than it lost the history in between and must
 * be told so. {@code head} is the last offset written (0 for an empty stream).
 */
public record Page(String stream, List<Publication> items, long firstOffset, long head)
    implements ClusterMessage {}
