#!/usr/bin/env bash
# Load tests (issue 8): builds the node, the example worker and the load tests, then runs one
# Gatling simulation (loadtest/, Java DSL). The simulation itself starts what it tests, on loopback,
# as separate processes: Redis (redis-server from the PATH on a free port, else the first node's
# embedded Redis), N Switchboard nodes (java -cp <node classpath> io.switchboard.node.Main with
# SWITCHBOARD_HTTP_PORT, _REMOTE_PORT, _MANAGEMENT_PORT, _SEED_NODES, _REDIS_URL, _API_KEY,
# _AUTH_HMAC_SECRET ...), the example Serve worker when needed, or the bare baseline server; and it
# stops them all at the end. Leaves Gatling's HTML report in loadtest/target/gatling/ and prints a
# one-line summary (also appended to loadtest/target/loadtest-summary.txt).
#
# Usage: scripts/loadtest.sh [--no-build] [--nodes N] [--baseline] <simulation> [-Dloadtest.<param>=<value> ...]
#   fanout          groups x members subscribers, API publishes at stepped rates (loadtest.groups,
#                   .members, .rates=10,20,50 publishes/s, .stepSeconds, .payloadSize)
#                   --baseline: the same first against the bare Pekko HTTP broadcast server, then
#                   against Switchboard, printing Switchboard/baseline ratios per step
#   storm           connection storm and memory per idle connection (.connections, .rampSeconds, .holdSeconds)
#   resume          reconnect storm (.clients, .groups, .rate, .offlineSeconds, .dropShare, .kill=true: 2 nodes,
#                   the clients' node is SIGKILLed at the cut)
#   request-reply   request/reply through the example Serve worker (.clients, .durationSeconds)
#   long-poll       long-poll clients (needs the long-poll transport in the node) (.clients, .groups, .rate)
# Every parameter and its default: the simulation classes in loadtest/src/test/java/io/switchboard/loadtest/.
# Environment: MVN_ARGS (extra Maven arguments, e.g. -o or -Dmaven.repo.local=...).
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
nodes=""
baseline=0
simulation=""
props=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --nodes) nodes="$2"; shift ;;
    --baseline) baseline=1 ;;
    -D*) props+=("$1") ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) simulation="$1" ;;
  esac
  shift
done
case "$simulation" in
  fanout) class=FanoutSimulation ;;
  storm) class=ConnectionStormSimulation ;;
  resume) class=ResumeSimulation ;;
  request-reply) class=RequestReplySimulation ;;
  long-poll) class=LongPollSimulation ;;
  *) echo "which simulation? fanout | storm | resume | request-reply | long-poll (--help)" >&2; exit 2 ;;
esac
[ -n "$nodes" ] && props+=("-Dloadtest.nodes=$nodes")

# Thousands of sockets on each side.
ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "$build" = 1 ]; then
  echo "building the node, the worker and the load tests ..." >&2
  # shellcheck disable=SC2086
  mvn -B -q ${MVN_ARGS:-} -DskipTests -Dspotless.check.skip=true -pl loadtest -am install
fi

mkdir -p loadtest/target
stamp=$(date +%Y%m%d-%H%M%S)
run() { # $1: label, rest: Maven arguments; prints the SUMMARY line
  local log="loadtest/target/loadtest-$simulation-$1-$stamp.log"
  echo "running $class ($1), output in $log ..." >&2
  local status=0
  # shellcheck disable=SC2086
  mvn -B ${MVN_ARGS:-} -Dspotless.check.skip=true -pl loadtest gatling:test \
    -Dgatling.simulationClass="io.switchboard.loadtest.$class" "${@:2}" ${props[@]+"${props[@]}"} \
    >"$log" 2>&1 || status=$?
  grep -E '^(SUMMARY|.*: (count|95th|99th|mean).* : (true|false))' "$log" | sort -u >&2 || true
  grep -o 'file://.*index.html' "$log" | tail -1 | sed 's/^/report: /' >&2 || true
  [ "$status" = 0 ] || echo "Gatling reported failed assertions or errors (exit $status); see $log" >&2
  return 0
}

if [ "$baseline" = 1 ]; then
  results="$PWD/loadtest/target/baseline-$stamp.properties"
  run baseline -Dloadtest.target=baseline -Dloadtest.resultsFile="$results"
  run switchboard -Dloadtest.compareWith="$results"
else
  run switchboard
fi
echo "one-line summaries: loadtest/target/loadtest-summary.txt" >&2
tail -n "$([ "$baseline" = 1 ] && echo 2 || echo 1)" loadtest/target/loadtest-summary.txt
