#!/usr/bin/env bash
# Backend API benchmark (issue 4): builds the node and the benchmark (test sources, nothing that
# ships), then runs io.switchboard.node.bench.RequestReplyBenchmark, which starts a node as a
# separate JVM on free 127.0.0.1 ports and, from this JVM, connects one Serve worker (the generated
# gRPC client) and prints
#   - request/reply round trips per second and p50/p99 latency from N WebSocket clients, each with
#     one Request in flight, through that worker (browser -> node -> worker -> node -> browser);
#   - publishes per second and p50/p99 latency from P concurrent gRPC callers (acknowledged after
#     the journal write; Redis journal by default, with the node's embedded Redis).
# About a minute with the defaults.
#
# Usage: scripts/bench-api.sh [--no-build] [--clients 64] [--publishers 16] [--duration 10]
#                             [--warmup 3] [--journal redis|inmem]
# Environment:
#   BENCH_JAVA_OPTS  JVM options of the load generator [-Xms512m -Xmx1g]
#   MVN_ARGS         extra Maven arguments (e.g. -o)
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

build=1
args=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    *) args+=("$a") ;;
  esac
done

cp_file=target/bench-api-classpath.txt
if [ "$build" = 1 ]; then
  echo "building cluster-node and the benchmark (test-compile) ..." >&2
  # shellcheck disable=SC2086
  mvn -q -B ${MVN_ARGS:-} -pl cluster-node -am test-compile dependency:build-classpath \
    -DskipTests -Dspotless.check.skip=true \
    -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=runtime
fi
[ -f "cluster-node/$cp_file" ] || { echo "no cluster-node/$cp_file: run without --no-build" >&2; exit 1; }

# Copies of this repository's classes: other builds may rewrite target/ while the JVMs load classes.
stage=$(mktemp -d "${TMPDIR:-/tmp}/bench-api.XXXXXX")
trap 'rm -rf "$stage"' EXIT
copy() { # $1: a directory of this repository -> the path of its copy
  local dest="$stage/${1//\//_}"
  [ -d "$dest" ] || cp -r "$1" "$dest"
  printf '%s' "$dest"
}
node_cp=$(copy "$root/cluster-node/target/classes")
IFS=: read -r -a entries <"cluster-node/$cp_file" || true # no newline at its end
for entry in "${entries[@]}"; do
  case "$entry" in
    "$root"/*) node_cp="$node_cp:$(copy "$entry")" ;;
    *) node_cp="$node_cp:$entry" ;;
  esac
done
bench_cp="$(copy "$root/cluster-node/target/test-classes"):$node_cp"

cat >"$stage/logback-bench.xml" <<'XML'
<configuration>
  <appender name="ERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%date{ISO8601} %-5level %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="ERR"/></root>
</configuration>
XML

# shellcheck disable=SC2086
java ${BENCH_JAVA_OPTS:--Xms512m -Xmx1g} \
  -Dlogback.configurationFile="$stage/logback-bench.xml" \
  -cp "$bench_cp" io.switchboard.node.bench.RequestReplyBenchmark \
  --node-classpath "$node_cp" --work-dir "$root/cluster-node/target/bench-api" \
  ${args[@]+"${args[@]}"}
