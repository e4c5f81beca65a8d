#!/usr/bin/env bash
# bench/compare.sh: Fjord side by side with the peers a user might pick, in one
# run: librdkafka's in-memory mock cluster (the ceiling of client plus protocol,
# no disk), Redis Streams (XADD, appendfsync everysec and always, driven by
# redis-benchmark with pipelining) and NATS JetStream (file store, bench/natspub).
# Several rounds; ratios are taken within a round, then the median over rounds
# is reported (the machine is shared and noisy). Then, once: loopback TCP
# (iperf3), fdatasync cost by write size (fio), and Fjord's scale checks
# (10,000 partitions, restart time, idle RSS, restart after kill -9 with data).
# Prints the table and writes bench/results/ (runs.jsonl, table.md, plot PNG)
# and BENCHMARKS.md. Not part of the test suite; see BENCHMARKS.md.
#
#   bench/compare.sh                          full run (about 6-9 minutes on 2 cores)
#   ROUNDS=1 N=2000 QUICK=1 bench/compare.sh  tiny (what the smoke test runs)
#
# Settings (environment): ROUNDS (3), N (1000000), PARTITIONS (4), E2E_RATE
# (10000), E2E_SECS (5), PEERS ("mock fjord redis nats"), SCALE (1: run the
# scale checks), SCALE_PARTITIONS (10000), STORE_MB (10240: data written before
# the kill -9 restart), LIMITS (1: iperf3 and fio), PROFILE (1: perf record of
# Fjord's headline produce), BUDGET (540 s: later rounds are skipped past it),
# RESULTS (bench/results), MD (BENCHMARKS.md; empty = do not write), BUILD.
# Every server listens on 127.0.0.1 on a free port with a temporary directory,
# and every process started here is stopped by its pid on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-build}"
case "$BUILD" in
/*) BUILD_DIR="$BUILD" ;;
*) BUILD_DIR="$ROOT/$BUILD" ;;
esac
FJORD_BIN="${FJORD_BIN:-$BUILD_DIR/fjord}"
LOADGEN="$BUILD_DIR/bench/loadgen"
MOCK="$BUILD_DIR/bench/mockcluster"
NATSPUB="$BUILD_DIR/bench/natspub"
QUICK="${QUICK:-0}"
ROUNDS="${ROUNDS:-3}"
N="${N:-1000000}"
PARTITIONS="${PARTITIONS:-4}"
E2E_RATE="${E2E_RATE:-10000}"
E2E_SECS="${E2E_SECS:-5}"
PEERS="${PEERS:-mock fjord redis nats}"
if [ "$QUICK" = 1 ]; then
	DEFAULT_SCALE=0 DEFAULT_LIMITS=0 DEFAULT_PROFILE=0 E2E_SECS="${E2E_SECS_QUICK:-1}"
else
	DEFAULT_SCALE=1 DEFAULT_LIMITS=1 DEFAULT_PROFILE=1
fi
SCALE="${SCALE:-$DEFAULT_SCALE}"
LIMITS="${LIMITS:-$DEFAULT_LIMITS}"
PROFILE="${PROFILE:-$DEFAULT_PROFILE}"
SCALE_PARTITIONS="${SCALE_PARTITIONS:-10000}"
STORE_MB="${STORE_MB:-10240}"
BUDGET="${BUDGET:-540}"
RESULTS="${RESULTS:-$ROOT/bench/results}"
MD="${MD-$ROOT/BENCHMARKS.md}"
CAP=120 # seconds: hard cap on any single load run

[ -x "$FJORD_BIN" ] || { echo "compare: no broker at $FJORD_BIN (run make)" >&2; exit 2; }
for b in "$LOADGEN" "$MOCK" "$NATSPUB"; do
	[ -x "$b" ] || { echo "compare: no $b (run make)" >&2; exit 2; }
done
if [ "${SKIP_DEPS:-0}" != 1 ]; then
	"$ROOT/bench/deps.sh" || echo "compare: bench/deps.sh failed; peers that are missing are skipped" >&2
fi

mkdir -p "$RESULTS"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fjord-compare.XXXXXX")"
RUNS="$RESULTS/runs.jsonl"
: >"$RUNS"
NOTES="$RESULTS/notes.txt"
: >"$NOTES"
T_START=$(date +%s.%N)
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

note() { echo "compare: $*" >&2; echo "$*" >>"$NOTES"; }
elapsed() { python3 -c "import time,sys; print(int(time.time()-float(sys.argv[1])))" "$T_START"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { # port pid
	for _ in $(seq 300); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# stop PID: SIGTERM, wait up to 10 s, then SIGKILL; drop it from PIDS.
stop() {
	local p="$1"
	kill "$p" 2>/dev/null || true
	for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	local keep=()
	for q in "${PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
	PIDS=("${keep[@]+"${keep[@]}"}")
}
# record LABEL CMD...: run a bench program, append its JSON line with our label.
record() {
	local label="$1"
	shift
	local out
	# Start each case with nothing left to write back from the one before.
	sync
	if out=$("$@" 2>>"$WORK/bench.err"); then :; else
		note "$label: exit status $? ($(tail -1 "$WORK/bench.err" 2>/dev/null))"
	fi
	out=$(printf '%s\n' "$out" | grep '^{' | tail -1 || true)
	[ -n "$out" ] || { note "$label: no result"; return 0; }
	python3 - "$label" "$out" >>"$RUNS" <<'PY'
import json, sys
d = json.loads(sys.argv[2]); d["label"] = sys.argv[1]; print(json.dumps(d))
PY
	echo "  $label: $(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("%.0f msgs/s, %.1f MB/s, p50 %.2f ms, p99 %.2f ms, errors %d" % (d["msgs_per_sec"], d["mb_per_sec"], d["p50_ms"], d["p99_ms"], d["errors"]))' "$out")" >&2
}

FJ_PID="" FJ_B="" FJ_DIR=""
fjord_start() { # dir extra-overrides...
	FJ_DIR="$1"
	shift
	local port
	port=$(free_port)
	mkdir -p "$FJ_DIR"
	"$FJORD_BIN" server --override "listeners=PLAINTEXT://127.0.0.1:$port" \
		--override "log.dirs=$FJ_DIR/data" --override fjord.http.listener=127.0.0.1:0 \
		--override "num.partitions=$PARTITIONS" "$@" 2>>"$FJ_DIR/broker.log" &
	FJ_PID=$!
	PIDS+=("$FJ_PID")
	FJ_B="127.0.0.1:$port"
	wait_port "$port" "$FJ_PID" || { note "fjord did not start: $(tail -3 "$FJ_DIR/broker.log")"; return 1; }
}

LG_COMMON=(--duration "$CAP")
# e2e: one message at a time, as Kafka's own end-to-end latency tool sends
# (producer linger.ms=0), consumed with the client's default fetch wait.
e2e_args() { # topic [extra...]
	local t="$1"
	shift
	echo -n "-t $t -n $((E2E_RATE * E2E_SECS)) -r $E2E_RATE -s 100 -l 0 $*"
}
produce_args() { # size
	echo -n "-n $N -s $1 -p $PARTITIONS -a all"
}

# ---------------------------------------------------------------- one round
round_mock() {
	local r="$1"
	"$MOCK" --duration 600 --topic p100:"$PARTITIONS" --topic p1k:"$PARTITIONS" \
		--topic e2e:"$PARTITIONS" >"$WORK/mock.out" 2>>"$WORK/bench.err" &
	local pid=$!
	PIDS+=("$pid")
	for _ in $(seq 100); do [ -s "$WORK/mock.out" ] && break; sleep 0.05; done
	local b
	b=$(head -1 "$WORK/mock.out")
	[ -n "$b" ] || { note "mock cluster did not start"; stop "$pid"; return 0; }
	record "mock/produce/100/r$r" "$LOADGEN" produce -b "$b" -t p100 $(produce_args 100) --no-create "${LG_COMMON[@]}"
	record "mock/produce/1024/r$r" "$LOADGEN" produce -b "$b" -t p1k $(produce_args 1024) --no-create "${LG_COMMON[@]}"
	record "mock/consume/100/r$r" "$LOADGEN" consume -b "$b" -t p100 -n "$N" --upto-available "${LG_COMMON[@]}"
	record "mock/e2e/100/r$r" "$LOADGEN" e2e -b "$b" $(e2e_args e2e --no-create) "${LG_COMMON[@]}"
	stop "$pid"
}

round_fjord() {
	local r="$1"
	fjord_start "$WORK/fjord-$r" || return 0
	local b="$FJ_B"
	record "fjord/produce/100/r$r" "$LOADGEN" produce -b "$b" -t p100 $(produce_args 100) "${LG_COMMON[@]}"
	record "fjord/produce/1024/r$r" "$LOADGEN" produce -b "$b" -t p1k $(produce_args 1024) "${LG_COMMON[@]}"
	record "fjord/consume/100/r$r" "$LOADGEN" consume -b "$b" -t p100 -n "$N" "${LG_COMMON[@]}"
	record "fjord/e2e/100/r$r" "$LOADGEN" e2e -b "$b" $(e2e_args e2e -p "$PARTITIONS") "${LG_COMMON[@]}"
	# The same with librdkafka's default linger.ms (5): batching adds up to 5 ms.
	record "fjord/e2e-linger5/100/r$r" "$LOADGEN" e2e -b "$b" $(e2e_args e2e5 -p "$PARTITIONS") -l 5 "${LG_COMMON[@]}"
	record "fjord/produce50/100/r$r" "$LOADGEN" produce -b "$b" -t p50 $(produce_args 100) --producers 50 "${LG_COMMON[@]}"
	record "fjord/keyed/100/r$r" "$LOADGEN" produce -b "$b" -t pkeyed $(produce_args 100) -k "${LG_COMMON[@]}"
	stop "$FJ_PID"
	rm -rf "$WORK/fjord-$r"
	# Relaxed flushing: the broker's log.flush.interval.ms (Kafka's page-cache mode).
	fjord_start "$WORK/fjord-relaxed-$r" --override log.flush.interval.ms=1000 || return 0
	b="$FJ_B"
	record "fjord-relaxed/produce/100/r$r" "$LOADGEN" produce -b "$b" -t p100 $(produce_args 100) "${LG_COMMON[@]}"
	record "fjord-relaxed/produce/1024/r$r" "$LOADGEN" produce -b "$b" -t p1k $(produce_args 1024) "${LG_COMMON[@]}"
	record "fjord-relaxed/e2e/100/r$r" "$LOADGEN" e2e -b "$b" $(e2e_args e2e -p "$PARTITIONS") "${LG_COMMON[@]}"
	stop "$FJ_PID"
	rm -rf "$WORK/fjord-relaxed-$r"
}

# redis-benchmark XADD: one client, 100 commands per pipeline (like one
# producer with batching), N entries of SIZE bytes into one stream.
redis_xadd() { # label port size
	local payload csv
	payload=$(head -c "$3" /dev/zero | tr '\0' 'x')
	local t0 t1
	t0=$(date +%s.%N)
	csv=$(timeout "$CAP" redis-benchmark -h 127.0.0.1 -p "$2" -c 1 -P 100 -n "$N" --csv \
		XADD bench '*' f "$payload" 2>>"$WORK/bench.err" | tail -1) || true
	t1=$(date +%s.%N)
	[ -n "$csv" ] || { note "$1: redis-benchmark gave no result"; return 0; }
	python3 - "$1" "$csv" "$3" "$N" "$t0" "$t1" >>"$RUNS" <<'PY'
import csv, json, sys
label, line, size, n, t0, t1 = sys.argv[1:]
f = next(csv.reader([line]))
# "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
rps = float(f[1]); size = int(size)
print(json.dumps({"mode": "redis-xadd", "msgs": int(n), "bytes": int(n) * size,
    "secs": round(int(n) / rps, 3), "msgs_per_sec": rps, "mb_per_sec": rps * size / 1048576,
    "p50_ms": float(f[4]), "p99_ms": float(f[6]), "p999_ms": 0.0, "max_ms": float(f[7]),
    "errors": 0, "label": label, "size": size, "partitions": 1, "acks": "aof", "clients": 1}))
PY
	echo "  $1: $(tail -1 "$RUNS" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.0f msgs/s p50 %.2f ms p99 %.2f ms (per 100-command pipeline)" % (d["msgs_per_sec"], d["p50_ms"], d["p99_ms"]))')" >&2
}

round_redis() {
	local r="$1" mode
	command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null ||
		{ [ "$r" != 1 ] || note "redis: redis-server/redis-benchmark not installed; skipped"; return 0; }
	for mode in everysec always; do
		local d="$WORK/redis-$mode-$r" port pid size
		mkdir -p "$d"
		port=$(free_port)
		redis-server --bind 127.0.0.1 --port "$port" --dir "$d" --appendonly yes \
			--appendfsync "$mode" --save '' --daemonize no --logfile "$d/redis.log" &
		pid=$!
		PIDS+=("$pid")
		wait_port "$port" "$pid" || { note "redis did not start"; stop "$pid"; continue; }
		for size in 100 1024; do
			redis-cli -h 127.0.0.1 -p "$port" DEL bench >/dev/null 2>&1 || true
			redis_xadd "redis-$mode/produce/$size/r$r" "$port" "$size"
		done
		stop "$pid"
		rm -rf "$d"
	done
}

round_nats() {
	local r="$1"
	command -v nats-server >/dev/null ||
		{ [ "$r" != 1 ] || note "nats: nats-server not installed; skipped"; return 0; }
	local d="$WORK/nats-$r" port pid size
	mkdir -p "$d"
	port=$(free_port)
	nats-server -js -a 127.0.0.1 -p "$port" -sd "$d" -l "$d/nats.log" &
	pid=$!
	PIDS+=("$pid")
	wait_port "$port" "$pid" || { note "nats did not start"; stop "$pid"; return 0; }
	for size in 100 1024; do
		record "nats-js/produce/$size/r$r" "$NATSPUB" -H 127.0.0.1 -P "$port" -n "$N" -s "$size" \
			-w 256 --stream "S$size" --subject "s$size" --duration "$CAP"
	done
	stop "$pid"
	rm -rf "$d"
}

for r in $(seq "$ROUNDS"); do
	if [ "$r" -gt 1 ] && [ "$(elapsed)" -gt "$BUDGET" ]; then
		note "budget of ${BUDGET}s reached after $((r - 1)) round(s); later rounds skipped"
		break
	fi
	echo "compare: round $r of $ROUNDS ($(elapsed)s elapsed)" >&2
	for p in $PEERS; do
		"round_$p" "$r"
	done
done

# ---------------------------------------------------------------- profile
# A separate run (not counted in the table, since perf slows the broker):
# the headline produce twice against a fresh strict Fjord under perf record.
if [ "$PROFILE" = 1 ] && command -v perf >/dev/null 2>&1 && fjord_start "$WORK/fjord-profile"; then
	echo "compare: profile ($(elapsed)s elapsed)" >&2
	perf record -F 1999 -g -o "$WORK/perf.data" -p "$FJ_PID" >/dev/null 2>"$WORK/perf.err" &
	perf_pid=$!
	PIDS+=("$perf_pid")
	sleep 0.5
	for i in 1 2; do
		record "profile/produce/100/r$i" "$LOADGEN" produce -b "$FJ_B" -t p100 $(produce_args 100) "${LG_COMMON[@]}"
	done
	kill -INT "$perf_pid" 2>/dev/null || true
	wait "$perf_pid" 2>/dev/null || true
	perf report -i "$WORK/perf.data" --no-children --sort comm,dso,symbol -g none --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | head -30 >"$RESULTS/profile.txt" || true
	perf report -i "$WORK/perf.data" --no-children --sort comm,dso -g none --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | head -10 >"$RESULTS/profile-dso.txt" || true
	perf report -i "$WORK/perf.data" --children --sort symbol -g none --stdio --dsos fjord 2>/dev/null |
		grep -E '^ +[0-9]' | head -30 >"$RESULTS/profile-children.txt" || true
	stop "$FJ_PID"
	rm -rf "$WORK/fjord-profile"
fi

# ---------------------------------------------------------------- machine limits
if [ "$LIMITS" = 1 ]; then
	echo "compare: machine limits ($(elapsed)s elapsed)" >&2
	if command -v iperf3 >/dev/null; then
		port=$(free_port)
		iperf3 -s -B 127.0.0.1 -p "$port" -1 >/dev/null 2>&1 &
		ipid=$!
		PIDS+=("$ipid")
		sleep 0.3
		if iperf3 -c 127.0.0.1 -p "$port" -t 3 -J >"$WORK/iperf.json" 2>/dev/null; then
			python3 - "$WORK/iperf.json" >>"$RESULTS/limits.txt.new" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bps = d["end"]["sum_received"]["bits_per_second"]
print("loopback TCP (iperf3, 1 stream, 3 s): %.1f Gbit/s = %.0f MB/s" % (bps / 1e9, bps / 8 / 1048576))
PY
		fi
		stop "$ipid"
	fi
	if command -v fio >/dev/null; then
		for bs in 4k 64k 1m; do
			fio --name=fsync --directory="$WORK" --rw=write --bs="$bs" --size=64m --fdatasync=1 \
				--runtime=4 --time_based=0 --ioengine=psync --output-format=json \
				>"$WORK/fio-$bs.json" 2>/dev/null || continue
			python3 - "$WORK/fio-$bs.json" "$bs" >>"$RESULTS/limits.txt.new" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
w = j["write"]; s = j.get("sync", {})
lat = s.get("lat_ns", {})
pct = lat.get("percentile", {})
print("write %s + fdatasync (fio): %.0f writes/s, %.1f MB/s, fdatasync mean %.2f ms, p99 %.2f ms" % (
    sys.argv[2], w["iops"], w["bw_bytes"] / 1048576, lat.get("mean", 0) / 1e6,
    pct.get("99.000000", 0) / 1e6))
PY
			rm -f "$WORK"/fsync.*
		done
	fi
	mv -f "$RESULTS/limits.txt.new" "$RESULTS/limits.txt" 2>/dev/null || true
fi

# ---------------------------------------------------------------- scale checks
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
scale_fact() { echo "$1=$2" >>"$RESULTS/scale.txt.new"; echo "  scale: $1=$2" >&2; }
if [ "$SCALE" = 1 ]; then
	echo "compare: scale checks ($(elapsed)s elapsed)" >&2
	: >"$RESULTS/scale.txt.new"
	d="$WORK/fjord-scale"
	if fjord_start "$d"; then
		"$LOADGEN" ready -b "$FJ_B" -t ready -p 1 --duration 30 >/dev/null 2>&1 || true
		sleep 1
		scale_fact idle_rss_mb_empty "$(rss_mb "$FJ_PID")"
		t0=$(date +%s.%N)
		"$FJORD_BIN" topic create -b "$FJ_B" wide -p "$SCALE_PARTITIONS" --timeout 60s >/dev/null 2>>"$WORK/bench.err" ||
			note "creating $SCALE_PARTITIONS partitions failed"
		scale_fact create_secs "$(python3 -c "import time; print(round(time.time()-$t0, 2))")"
		sleep 1
		scale_fact idle_rss_mb_partitions "$(rss_mb "$FJ_PID")"
		record "scale/produce-wide/100/r1" "$LOADGEN" produce -b "$FJ_B" -t wide -n 200000 -s 100 -p "$SCALE_PARTITIONS" -k --no-create "${LG_COMMON[@]}"
		record "scale/consume-wide/100/r1" "$LOADGEN" consume -b "$FJ_B" -t wide -n 200000 "${LG_COMMON[@]}"
		scale_fact rss_mb_after_wide "$(rss_mb "$FJ_PID")"
		stop "$FJ_PID"
		# Restart (clean shutdown) with 10,000 partitions: time to serving.
		t0=$(date +%s.%N)
		port="${FJ_B##*:}"
		"$FJORD_BIN" server --override "listeners=PLAINTEXT://127.0.0.1:$port" \
			--override "log.dirs=$d/data" --override fjord.http.listener=127.0.0.1:0 2>>"$d/broker.log" &
		FJ_PID=$!
		PIDS+=("$FJ_PID")
		"$LOADGEN" ready -b "$FJ_B" -t wide -p "$SCALE_PARTITIONS" --duration 60 >/dev/null 2>&1 || note "restart with $SCALE_PARTITIONS partitions: not serving within 60 s"
		scale_fact restart_wide_secs "$(python3 -c "import time; print(round(time.time()-$t0, 3))")"
		sleep 1
		scale_fact idle_rss_mb_after_restart "$(rss_mb "$FJ_PID")"
		stop "$FJ_PID"
		rm -rf "$d"
	fi
	# Many producers over many partitions on a strict broker: the syncs of one
	# loop turn share a syncfs (fjord.log.syncfs.min.partitions).
	d="$WORK/fjord-many"
	if fjord_start "$d"; then
		record "scale/produce-1k-partitions-20-producers/100/r1" "$LOADGEN" produce -b "$FJ_B" -t many \
			-n 500000 -s 100 -p 1000 -k --producers 20 "${LG_COMMON[@]}"
		stop "$FJ_PID"
		rm -rf "$d"
	fi
	# Restart after kill -9 with STORE_MB of data (1 KiB messages, 4 partitions).
	d="$WORK/fjord-store"
	if fjord_start "$d" --override log.flush.interval.ms=1000; then
		n=$((STORE_MB * 1024))
		record "scale/produce-store/1024/r1" "$LOADGEN" produce -b "$FJ_B" -t store -n "$n" -s 1024 -p "$PARTITIONS" -a 1 --duration 300
		scale_fact stored_mb "$(du -sm "$d/data" | cut -f1)"
		kill -9 "$FJ_PID"
		wait "$FJ_PID" 2>/dev/null || true
		t0=$(date +%s.%N)
		port="${FJ_B##*:}"
		"$FJORD_BIN" server --override "listeners=PLAINTEXT://127.0.0.1:$port" \
			--override "log.dirs=$d/data" --override fjord.http.listener=127.0.0.1:0 \
			--override log.flush.interval.ms=1000 2>>"$d/broker.log" &
		FJ_PID=$!
		PIDS+=("$FJ_PID")
		"$LOADGEN" ready -b "$FJ_B" -t store -p "$PARTITIONS" --duration 60 >/dev/null 2>&1 || note "restart after kill -9: not serving within 60 s"
		scale_fact restart_kill9_secs "$(python3 -c "import time; print(round(time.time()-$t0, 3))")"
		stop "$FJ_PID"
		rm -rf "$d"
	fi
	mv -f "$RESULTS/scale.txt.new" "$RESULTS/scale.txt"
fi

TOTAL=$(elapsed)
echo "compare: done in ${TOTAL}s" >&2
python3 "$ROOT/bench/report.py" --runs "$RUNS" --results "$RESULTS" --md "$MD" \
	--seconds "$TOTAL" --n "$N" --partitions "$PARTITIONS" --rate "$E2E_RATE" \
	--quick "$QUICK" --scale-partitions "$SCALE_PARTITIONS" --store-mb "$STORE_MB"
