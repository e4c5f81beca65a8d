"""bench/compare.sh in its tiny mode: the bench programs build and run a small
workload correctly, and the results and table are well formed.

No timing is asserted here: performance figures live in BENCHMARKS.md.
Peers (Redis, NATS) that are not installed are left out, saying so; install
them with bench/deps.sh. The mock cluster and Fjord are always run.
"""

import json
import os
import shutil
import subprocess

import pytest

import helpers

BUILD = os.path.join(helpers.REPO, os.environ.get("BUILD", "build"))
PROGRAMS = ["loadgen", "mockcluster", "natspub"]
FIELDS = ["mode", "msgs", "bytes", "secs", "msgs_per_sec", "mb_per_sec", "p50_ms", "p99_ms",
          "p999_ms", "max_ms", "errors", "label", "size", "partitions", "acks", "clients"]
N = 2000


def bench_binary(name):
    path = os.path.join(BUILD, "bench", name)
    if not os.access(path, os.X_OK):
        pytest.skip("%s is not built (run make)" % path)
    return path


def test_compare_tiny(tmp_path):
    for p in PROGRAMS:
        bench_binary(p)
    if not os.access(os.path.join(BUILD, "fjord"), os.X_OK):
        pytest.skip("no broker binary (run make)")
    peers = ["mock", "fjord"]
    skipped = []
    if shutil.which("redis-server") and shutil.which("redis-benchmark"):
        peers.append("redis")
    else:
        skipped.append("redis (redis-server/redis-benchmark not installed: run bench/deps.sh)")
    if shutil.which("nats-server"):
        peers.append("nats")
    else:
        skipped.append("nats (nats-server not installed: run bench/deps.sh)")
    if skipped:
        print("peers left out: " + "; ".join(skipped))

    results = tmp_path / "results"
    md = tmp_path / "BENCHMARKS.md"
    env = dict(os.environ, ROUNDS="1", N=str(N), QUICK="1", SKIP_DEPS="1", PEERS=" ".join(peers),
               RESULTS=str(results), MD=str(md), E2E_RATE="1000", E2E_SECS="1", TMPDIR=str(tmp_path))
    res = subprocess.run([os.path.join(helpers.REPO, "bench", "compare.sh")], env=env,
                         capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, "compare.sh exit %d\nstdout: %s\nstderr: %s" % (
        res.returncode, res.stdout[-3000:], res.stderr[-3000:])

    runs = [json.loads(l) for l in (results / "runs.jsonl").read_text().splitlines() if l.strip()]
    by = {r["label"]: r for r in runs}
    for r in runs:
        for f in FIELDS:
            assert f in r, "%s lacks %s: %r" % (r.get("label"), f, r)
        assert r["errors"] == 0, r
        assert r["msgs_per_sec"] > 0 and r["secs"] > 0, r
    expected = ["mock/produce/100/r1", "mock/produce/1024/r1", "mock/consume/100/r1", "mock/e2e/100/r1",
                "fjord/produce/100/r1", "fjord/produce/1024/r1", "fjord/consume/100/r1", "fjord/e2e/100/r1",
                "fjord/produce50/100/r1", "fjord/keyed/100/r1", "fjord-relaxed/produce/100/r1",
                "fjord-relaxed/produce/1024/r1", "fjord-relaxed/e2e/100/r1"]
    if "redis" in peers:
        expected += ["redis-%s/produce/%d/r1" % (m, s) for m in ("everysec", "always") for s in (100, 1024)]
    if "nats" in peers:
        expected += ["nats-js/produce/100/r1", "nats-js/produce/1024/r1"]
    for label in expected:
        assert label in by, "no result for %s; notes: %s" % (label, (results / "notes.txt").read_text())
    for label in expected:
        r = by[label]
        if "/produce" in label or "/keyed" in label or "/e2e" in label or label.startswith("fjord/consume"):
            assert r["msgs"] == N if "/e2e" not in label else r["msgs"] == 1000, r
        if label.startswith("fjord/") and "/produce" in label:
            assert r["p50_ms"] > 0 and r["p99_ms"] >= r["p50_ms"] and r["max_ms"] >= r["p99_ms"], r
    assert by["fjord/produce50/100/r1"]["clients"] == 50

    table = (results / "table.md").read_text()
    assert table.startswith("| system / case / bytes |"), table[:200]
    for line in ["| target | measured | bar | verdict |", "consume from the beginning ÷ mock",
                 "produce 100 B acks=all, fsync before ack ÷ mock", "50 concurrent producers ÷ headline"]:
        assert line in table, line
    for line in table.split("\n\n")[0].splitlines():
        if line.startswith("| fjord/") or line.startswith("| mock/"):
            assert line.count("|") == 10, line
    text = md.read_text()
    assert "# Benchmarks" in text and "## Targets" in text and "How to reproduce" in text
