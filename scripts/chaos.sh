#!/usr/bin/env bash
# The cluster chaos run (issue 6): 3 node JVMs + 1 Redis on loopback, subscribers and a publisher;
# a node joins, one leaves (SIGTERM), one is killed (SIGKILL), a rolling restart, a Redis outage.
# Prints recovery times per event and lost / duplicated / out-of-order counts; exits 1 unless all 0.
# Usage: scripts/chaos.sh [subscribers=24] [publications-per-second=40]   (takes ~3-5 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -DskipTests -Dspotless.check.skip=true install
cd cluster-node
mvn -B -q -Dspotless.check.skip=true test-compile dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/chaos.classpath
exec java -Xmx512m -cp "target/test-classes:target/classes:$(cat target/chaos.classpath)" \
  io.switchboard.node.chaos.ChaosRun "${1:-24}" "${2:-40}"
