#!/usr/bin/env bash
# Delivery benchmark of one Switchboard node (issue 2). Builds the node and the benchmark from a
# snapshot of this working tree, then runs io.switchboard.node.bench.DeliveryBenchmark (test
# sources: nothing here ships), which starts the node as a separate JVM on free 127.0.0.1 ports,
# drives 1,000 and 5,000 WebSocket subscribers of one group at rising publish rates, and prints
# deliveries/s, publish->delivery latency, the node's CPU per delivery and its memory per idle
# connection. The default run stops by itself within about 15 minutes (each step waits, at most
# 90 s, until the node's JIT is quiet; --baseline adds about 10 minutes).
#
# Usage: scripts/bench-delivery.sh [--no-build] [benchmark options]
#   scripts/bench-delivery.sh                                   the full default run
#   scripts/bench-delivery.sh --subscribers 5000 --rates 5000=2,10,20 --idle 0
#   scripts/bench-delivery.sh --journal pekko.persistence.journal.inmem    no Redis at all
#   scripts/bench-delivery.sh --baseline                        then the same scenarios against a
#                                                               bare Netty broadcast server
#   scripts/bench-delivery.sh --help                            every benchmark option
# The node uses its default journal (today the Redis journal: it reads SWITCHBOARD_REDIS_URL from
# this environment or starts an embedded Redis on a free port); --journal and --node-opt
# -Dkey=value change that.
#
# Environment:
#   BENCH_JAVA_OPTS   JVM options of the load generator [-Xms1g -Xmx1g]
#   BENCH_BUILD_DIR   where the snapshot is built [${TMPDIR:-/tmp}/switchboard-bench-build]
#   MVN_ARGS          extra Maven arguments (e.g. -o)
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

# 5,000+ sockets on each side, plus the node's own files.
ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12000 ]; then
  echo "warning: open files limit is $(ulimit -n); 5,000 subscribers need about 11,000" >&2
fi

# The working tree is shared: others edit, build and clean it while a run takes minutes, and a JVM
# loads classes lazily. So the benchmark builds and runs a private copy of the sources (target/
# directories excluded, kept between runs for incremental builds), one run at a time.
build_dir=${BENCH_BUILD_DIR:-${TMPDIR:-/tmp}/switchboard-bench-build}
mkdir -p "$build_dir"
exec 9>"$build_dir/.lock"
if ! flock -n 9; then
  echo "another benchmark run holds $build_dir; waiting for it ..." >&2
  flock 9
fi
src="$build_dir/src"
cp_file=target/bench-classpath.txt
if [ "$build" = 1 ]; then
  echo "building a snapshot of $root in $src ..." >&2
  mkdir -p "$src"
  rsync -a --delete --exclude 'target/' --exclude '.git/' --exclude 'node_modules/' \
    "$root/" "$src/"
  # Main code of cluster-node and the modules it depends on; the benchmark's own sources are
  # compiled below with javac, so a test of another team that does not compile right now cannot
  # stop the benchmark. Formatting is not checked here.
  # shellcheck disable=SC2086
  (cd "$src" && mvn -q -B ${MVN_ARGS:-} -pl cluster-node -am compile dependency:build-classpath \
    -Dspotless.check.skip=true -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=runtime)
fi
if [ ! -f "$src/cluster-node/$cp_file" ] || [ ! -f "$src/cluster-node/target/classes/io/switchboard/node/Main.class" ]; then
  echo "no build in $src: run without --no-build" >&2
  exit 1
fi
node_cp="$src/cluster-node/target/classes:$(cat "$src/cluster-node/$cp_file")"

bench_classes="$build_dir/bench-classes"
rm -rf "$bench_classes"
mkdir -p "$bench_classes"
javac --release 17 -nowarn -encoding UTF-8 -d "$bench_classes" -cp "$node_cp" \
  "$root"/cluster-node/src/test/java/io/switchboard/node/bench/*.java

# The generator logs warnings only, to stderr.
cat >"$build_dir/logback-bench.xml" <<'EOF'
<configuration>
  <appender name="ERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%date{ISO8601} %-5level %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="ERR"/></root>
</configuration>
EOF

echo "commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes'); command: scripts/bench-delivery.sh $*"
# shellcheck disable=SC2086
java ${BENCH_JAVA_OPTS:--Xms1g -Xmx1g} \
  -Dlogback.configurationFile="$build_dir/logback-bench.xml" \
  -cp "$bench_classes:$node_cp" io.switchboard.node.bench.DeliveryBenchmark \
  --node-classpath "$node_cp" --work-dir "$root/cluster-node/target/bench" \
  ${args[@]+"${args[@]}"}
