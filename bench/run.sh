#!/usr/bin/env bash
# bench/run.sh: start a broker on a free port in a temp dir, produce then
# consume 1,000,000 100-byte messages with loadgen, print loadgen's JSON lines.
# Not part of the test suite.
#
#   BUILD=build bench/run.sh            (FJORD_BIN, LOADGEN override the binaries)
#   N=200000 SIZE=1000 PARTITIONS=4 ACKS=1 CODEC=lz4 bench/run.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-build}"
case "$BUILD" in
/*) BUILD_DIR="$BUILD" ;;
*) BUILD_DIR="$ROOT/$BUILD" ;;
esac
FJORD_BIN="${FJORD_BIN:-$BUILD_DIR/fjord}"
LOADGEN="${LOADGEN:-$BUILD_DIR/bench/loadgen}"
N="${N:-1000000}"
SIZE="${SIZE:-100}"
PARTITIONS="${PARTITIONS:-1}"
ACKS="${ACKS:-all}"
CODEC="${CODEC:-none}"
DURATION="${DURATION:-300}"

[ -x "$FJORD_BIN" ] || { echo "no broker at $FJORD_BIN (run make)" >&2; exit 2; }
if [ ! -x "$LOADGEN" ]; then
	LOADGEN="$(mktemp -d)/loadgen"
	gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra "$ROOT/bench/loadgen.c" -lrdkafka -lpthread -o "$LOADGEN"
fi

DIR="$(mktemp -d "${TMPDIR:-/tmp}/fjord-bench.XXXXXX")"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$DIR/server.properties" <<PROPS
listeners=PLAINTEXT://127.0.0.1:$PORT
log.dirs=$DIR/data
num.partitions=$PARTITIONS
PROPS

"$FJORD_BIN" server -c "$DIR/server.properties" 2>"$DIR/broker.log" &
PID=$!
cleanup() {
	kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
	rm -rf "$DIR"
}
trap cleanup EXIT

for _ in $(seq 200); do
	if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
	kill -0 "$PID" 2>/dev/null || { echo "broker exited; log:" >&2; cat "$DIR/broker.log" >&2; exit 1; }
	sleep 0.1
done

B="127.0.0.1:$PORT"
"$LOADGEN" produce -b "$B" -t bench -n "$N" -s "$SIZE" -p "$PARTITIONS" -a "$ACKS" -z "$CODEC" --duration "$DURATION"
"$LOADGEN" consume -b "$B" -t bench -n "$N" --duration "$DURATION"
