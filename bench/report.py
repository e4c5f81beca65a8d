#!/usr/bin/env python3
"""bench/report.py: turn bench/compare.sh's runs.jsonl into the table, the
target checks, a gnuplot PNG and BENCHMARKS.md.

Each line of runs.jsonl is one run in loadgen's JSON format whose "label" is
SYSTEM/CASE/SIZE/rROUND. Figures are medians over rounds; a ratio is taken
within each round (both sides ran minutes apart on the same noisy machine)
and the median of those per-round ratios is reported.
Hand-written analysis in bench/analysis.md is copied into BENCHMARKS.md.
"""
import argparse
import collections
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--runs", required=True)
p.add_argument("--results", required=True)
p.add_argument("--md", default="")
p.add_argument("--seconds", type=int, default=0)
p.add_argument("--n", type=int, default=0)
p.add_argument("--partitions", type=int, default=4)
p.add_argument("--rate", type=int, default=10000)
p.add_argument("--quick", default="0")
p.add_argument("--scale-partitions", type=int, default=10000)
p.add_argument("--store-mb", type=int, default=0)
a = p.parse_args()

runs = [json.loads(l) for l in open(a.runs) if l.strip()]
by = collections.defaultdict(dict)  # "sys/case/size" -> {round: run}
for r in runs:
    key, _, rnd = r["label"].rpartition("/r")
    by[key][int(rnd)] = r


def med(key, field):
    v = [r[field] for r in by.get(key, {}).values()]
    return statistics.median(v) if v else None


ROUND_RATIOS = {}  # (num, den) -> the per-round ratios, in round order


def ratio(num, den, field="msgs_per_sec"):
    """Median over rounds of num/den, each taken within one round."""
    rs = []
    for rnd, r in sorted(by.get(num, {}).items()):
        d = by.get(den, {}).get(rnd)
        if d and d[field] > 0 and r["errors"] == 0:
            rs.append(r[field] / d[field])
    ROUND_RATIOS[(num, den)] = rs
    return (statistics.median(rs), len(rs)) if rs else (None, 0)


def fmt(v, f="%.0f"):
    return "n/a" if v is None else f % v


# ---------------------------------------------------------------- table
order = ["mock", "fjord", "fjord-relaxed", "redis-everysec", "redis-always", "nats-js", "scale", "profile"]
keys = sorted(by, key=lambda k: (order.index(k.split("/")[0]) if k.split("/")[0] in order else 99, k))
rows = ["| system / case / bytes | rounds | msgs/s | MB/s | p50 ms | p99 ms | p99.9 ms | max ms | errors |",
        "|---|---|---|---|---|---|---|---|---|"]
for k in keys:
    errs = sum(r["errors"] for r in by[k].values())
    rows.append("| %s | %d | %s | %s | %s | %s | %s | %s | %d |" % (
        k, len(by[k]), fmt(med(k, "msgs_per_sec")), fmt(med(k, "mb_per_sec"), "%.1f"),
        fmt(med(k, "p50_ms"), "%.2f"), fmt(med(k, "p99_ms"), "%.2f"), fmt(med(k, "p999_ms"), "%.2f"),
        fmt(med(k, "max_ms"), "%.2f"), errs))
table = "\n".join(rows)


def load_kv(path):
    d = {}
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.strip().split("=", 1)
                d[k] = v
    return d


scale = load_kv(os.path.join(a.results, "scale.txt"))

# ---------------------------------------------------------------- targets
T = []  # (target, measured, bound, met)


def target(name, value, bound, ge=True, unit="x", n=None, pair=None):
    if value is None:
        T.append((name, "not measured", ("≥ " if ge else "≤ ") + "%g%s" % (bound, unit), "n/a"))
        return
    met = value >= bound if ge else value <= bound
    meas = ("%.2f%s" % (value, unit)) + (" (%d rounds)" % n if n else "")
    rs = ROUND_RATIOS.get(pair, [])
    if len(rs) > 1:
        meas = "%.2f%s (rounds: %s)" % (value, unit, ", ".join("%.2f" % x for x in rs))
    by_how = value / bound if ge else bound / value if value else float("inf")
    T.append((name, meas, ("≥ " if ge else "≤ ") + "%g%s" % (bound, unit),
              ("met" if met else "MISSED") + " (%.2f of the bar)" % by_how))


for size in (100, 1024):
    sz = "100 B" if size == 100 else "1 KiB"
    pair = ("fjord/produce/%d" % size, "mock/produce/%d" % size)
    v, n = ratio(*pair)
    target("produce %s acks=all, fsync before ack ÷ mock" % sz, v, 0.8, n=n, pair=pair)
    pair = ("fjord/produce/%d" % size, "redis-everysec/produce/%d" % size)
    v, n = ratio(*pair)
    target("produce %s acks=all, fsync before ack ÷ Redis XADD everysec" % sz, v, 3 if size == 100 else 5, n=n,
           pair=pair)
    pair = ("fjord-relaxed/produce/%d" % size, "mock/produce/%d" % size)
    v, n = ratio(*pair)
    target("produce %s relaxed (log.flush.interval.ms=1000) ÷ mock" % sz, v, 1.0, n=n, pair=pair)
pair = ("fjord/consume/100", "mock/consume/100")
v, n = ratio(*pair)
target("consume from the beginning ÷ mock", v, 1.0, n=n, pair=pair)
target("e2e p99 at %d msgs/s, default fetch wait (fsync before ack)" % a.rate, med("fjord/e2e/100", "p99_ms"), 5, ge=False, unit=" ms")
target("e2e p99 at %d msgs/s, relaxed flushing" % a.rate, med("fjord-relaxed/e2e/100", "p99_ms"), 5, ge=False, unit=" ms")
pair = ("fjord/produce50/100", "fjord/produce/100")
v, n = ratio(*pair)
target("50 concurrent producers ÷ headline", v, 0.7, n=n, pair=pair)
pair = ("fjord/keyed/100", "fjord/produce/100")
v, n = ratio(*pair)
target("keyed messages ÷ headline", v, 0.7, n=n, pair=pair)
if scale:
    w = by.get("scale/produce-wide/100", {}).get(1)
    c = by.get("scale/consume-wide/100", {}).get(1)
    ok = w and c and w["errors"] == 0 and c["errors"] == 0
    T.append(("%d partitions: created, written, read" % a.scale_partitions,
              "created in %s s; %s written, %s read" % (scale.get("create_secs", "?"),
                                                         w["msgs"] if w else 0, c["msgs"] if c else 0),
              "all", "met" if ok else "MISSED"))
    f = lambda k: float(scale[k]) if k in scale else None
    target("restart to serving with %d partitions" % a.scale_partitions, f("restart_wide_secs"), 2, ge=False, unit=" s")
    target("idle RSS before data (no topics)", f("idle_rss_mb_empty"), 64, ge=False, unit=" MB")
    target("idle RSS before data (%d partitions created)" % a.scale_partitions, f("idle_rss_mb_partitions"), 64, ge=False, unit=" MB")
    target("restart to serving after kill -9 with %s MB stored" % scale.get("stored_mb", "?"),
           f("restart_kill9_secs"), 1, ge=False, unit=" s")
ttable = "\n".join(["| target | measured | bar | verdict |", "|---|---|---|---|"] +
                   ["| %s | %s | %s | %s |" % t for t in T])

# Other within-round ratios, for context.
ctx = []
for num, den in [("fjord/produce/100", "nats-js/produce/100"), ("fjord/produce/1024", "nats-js/produce/1024"),
                 ("fjord/produce/100", "redis-always/produce/100"), ("fjord/produce/1024", "redis-always/produce/1024"),
                 ("fjord/produce/1024", "mock/produce/1024"), ("fjord-relaxed/produce/100", "fjord/produce/100")]:
    v, n = ratio(num, den)
    if v is not None:
        ctx.append("| %s ÷ %s | %.2fx | %d |" % (num, den, v, n))
ctable = "\n".join(["| ratio (msgs/s, within a round) | median | rounds |", "|---|---|---|"] + ctx)

print()
print(table)
print()
print(ttable)
print()
print(ctable)

# ---------------------------------------------------------------- plot
png = os.path.join(a.results, "compare.png")
have_png = False
if shutil.which("gnuplot"):
    dat = os.path.join(a.results, "plot.dat")
    with open(dat, "w") as f:
        f.write("# system msgs100 msgs1024 p99_100 p99_1024\n")
        for s in ["mock", "fjord", "fjord-relaxed", "redis-everysec", "redis-always", "nats-js"]:
            m1, m2 = med(s + "/produce/100", "msgs_per_sec"), med(s + "/produce/1024", "msgs_per_sec")
            if m1 is None and m2 is None:
                continue
            f.write('"%s" %s %s %s %s\n' % (s, m1 or 0, m2 or 0, med(s + "/produce/100", "p99_ms") or 0,
                                          med(s + "/produce/1024", "p99_ms") or 0))
    gp = """set terminal pngcairo size 1100,450 font ",10"
set output '%s'
set multiplot layout 1,2 title "Produce, %d messages, median of rounds (bench/compare.sh)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -30
set grid ytics
set title "throughput (thousand msgs/s)"
plot '%s' using ($2/1000):xtic(1) title "100 B", '' using ($3/1000) title "1 KiB"
set title "p99 latency (ms; Redis: per 100-command pipeline)"
set logscale y
plot '%s' using ($4+0.01):xtic(1) title "100 B", '' using ($5+0.01) title "1 KiB"
unset multiplot
""" % (png, a.n, dat, dat)
    r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
    if r.returncode != 0:
        r = subprocess.run(["gnuplot"], input=gp.replace("pngcairo", "png"), text=True, capture_output=True)
    have_png = r.returncode == 0 and os.path.exists(png)
    if not have_png:
        print("report: gnuplot failed: " + r.stderr.strip(), file=sys.stderr)

with open(os.path.join(a.results, "table.md"), "w") as f:
    f.write(table + "\n\n" + ttable + "\n\n" + ctable + "\n")

if not a.md:
    sys.exit(0)


def read(path):
    return open(path).read().strip() if os.path.exists(path) else ""


def cmd(c):
    try:
        return subprocess.run(c, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:
        return ""


cpu = cmd("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
mem = cmd("free -g | awk '/Mem:/ {print $2}'")
limits = read(os.path.join(a.results, "limits.txt"))
profile = read(os.path.join(a.results, "profile.txt"))
profile_dso = read(os.path.join(a.results, "profile-dso.txt"))
profile_ch = read(os.path.join(a.results, "profile-children.txt"))
notes = read(os.path.join(a.results, "notes.txt"))
analysis = read(os.path.join(os.path.dirname(os.path.abspath(__file__)), "analysis.md"))
rel_png = os.path.relpath(png, os.path.dirname(os.path.abspath(a.md)))
rounds = max((len(v) for k, v in by.items() if k.split("/")[0] not in ("scale", "profile")), default=0)

md = """# Benchmarks

Latest run of `bench/compare.sh`: %s, %d round(s), %d s in all%s.
Machine: %s, %s cores, %s GB RAM, Linux %s. The machine is shared: other work may
have run at the same time, so ratios are taken within a round and medians are shown.

## How to reproduce

```
make                      # builds build/fjord and build/bench/{loadgen,mockcluster,natspub}
bench/compare.sh          # installs the peers (bench/deps.sh), runs everything, rewrites this file
ROUNDS=1 N=2000 QUICK=1 MD= bench/compare.sh   # a tiny run, no scale checks, this file untouched
```

One piece at a time: `build/bench/loadgen produce|consume|e2e|ready --help`,
`build/bench/mockcluster --topic t:4`, `build/bench/natspub -P PORT -n N -s SIZE`, `bench/run.sh`.

Workload: %d messages, %d partitions, one librdkafka producer (linger.ms=5, acks=all,
no compression) unless the case says otherwise. Peers: librdkafka %s mock cluster (in memory,
no disk: the ceiling of client plus protocol); Redis %s Streams, `redis-benchmark -c 1 -P 100
XADD` into one stream, AOF with appendfsync everysec and always (its latencies are per pipeline
of 100 commands; it reports no p99.9); NATS %s JetStream, file store, `bench/natspub`
with 256 unacknowledged publishes (nats-server 2.9 fsyncs its file store in the background,
not per message). Fjord strict = defaults (fsync before ack, group commit); relaxed =
`log.flush.interval.ms=1000`. Consume = from the beginning (offset 0), one consumer with
assign(), messages taken in batches of up to 4096; the mock keeps only about 5 MiB per
partition, so its consume rate is taken over what it still holds. e2e = %d msgs/s of 100 B with the send time in the payload, consumed
concurrently with librdkafka's default fetch.wait.max.ms (500); the producer sends with
linger.ms=0, as Kafka's own end-to-end latency tool (EndToEndLatency) does; the row
e2e-linger5 keeps librdkafka's default linger.ms=5 for comparison. Every case starts
after a `sync`, so none pays for write-back left by the one before.

## Results

%s

%s

## Targets

%s

## Other ratios

%s

## Machine limits

```
%s
```

## Scale checks

```
%s
```

## Profile of Fjord during the headline produce

A separate run (rows profile/*, not in the ratios): a fresh strict Fjord, the headline produce
twice, `perf record -F 1999 -g -p <broker>`. Self time by thread, object and symbol:

```
%s
```

By thread and object:

```
%s
```

Fjord's own functions, time including callees:

```
%s
```

%s

## Notes from this run

```
%s
```
""" % (time.strftime("%Y-%m-%d %H:%M %Z"), rounds, a.seconds, " (QUICK mode: tiny workload)" if a.quick == "1" else "",
       cpu or platform.processor(), os.cpu_count(), mem, platform.release(),
       a.n, a.partitions, cmd("dpkg-query -W -f='${Version}' librdkafka-dev"),
       cmd("redis-server --version | grep -o 'v=[0-9.]*' | cut -d= -f2"),
       cmd("nats-server --version | grep -o '[0-9][0-9.]*'"), a.rate,
       ("![throughput and latency](%s)" % rel_png) if have_png else "(no plot: gnuplot missing)",
       table, ttable, ctable, limits or "(not measured)",
       "\n".join("%s=%s" % kv for kv in scale.items()) or "(not run)",
       profile or "(not captured)", profile_dso or "(not captured)", profile_ch or "(not captured)", analysis, notes or "(none)")
with open(a.md, "w") as f:
    f.write(md)
print("\nreport: wrote %s" % a.md, file=sys.stderr)
