package io.switchboard.node.api;

import io.switchboard.node.backend.WorkerOutlet;
import io.switchboard.protocol.v1.GatewayFrame;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;

/**
 * A worker's Serve response stream as a {@link WorkerOutlet}: a bounded queue whose source Pekko
 * gRPC writes out. Failures end the call with the status {@link ApiErrors} gives them.
 */
final class GrpcWorkerOutlet implements WorkerOutlet {
  private final BoundedSourceQueue<GatewayFrame> queue;
  private boolean ended;

  GrpcWorkerOutlet(BoundedSourceQueue<GatewayFrame> queue) {
    this.queue = queue;
  }

  @Override
  public boolean offer(GatewayFrame frame) {
    return !ended && queue.offer(frame) == QueueOfferResult.enqueued();
  }

  @Override
  public void complete() {
    if (!ended) {
      ended = true;
      if (!queue.isCompleted()) {
        closeQuietly(() -> queue.complete());
      }
    }
  }

  @Override
  public void fail(RuntimeException cause) {
    if (!ended) {
      ended = true;
      if (!queue.isCompleted()) {
        closeQuietly(() -> queue.fail(ApiErrors.from(cause)));
      }
    }
  }

  /** The worker's call may end (cancelled by the client) between the check and the close. */
  private static void closeQuietly(Runnable close) {
    try {
      close.run();
    } catch (IllegalStateException alreadyClosed) {
      // the stream is over either way
    }
  }
}
