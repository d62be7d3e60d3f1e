package io.switchboard.node.backend;

import io.switchboard.protocol.v1.GatewayFrame;

/**
 * The outbound side of one worker's Serve stream, as its {@link WorkerActor} sees it: a bounded
 * buffer of frames. Offers never block. Called only from the worker actor.
 */
public interface WorkerOutlet {

  /** Queues a frame; false when the buffer is full or the stream is over. */
  boolean offer(GatewayFrame frame);

  /** Ends the stream after the queued frames. Idempotent. */
  void complete();

  /**
   * Ends the stream with an error status: {@link IllegalArgumentException} for what the worker sent
   * wrong, anything else for a limit it exceeded.
   */
  void fail(RuntimeException cause);
}
