/**
 * Metrics of a node in Prometheus' text format at {@code /metrics} on the management port: {@link
 * io.switchboard.node.metrics.NodeMetrics} holds the counters and histograms the edge and the
 * entities update (lock-free, per actor system), {@link io.switchboard.node.metrics.MetricsRoutes}
 * renders them together with gauges read from the cluster and sharding at scrape time.
 */
package io.switchboard.node.metrics;
