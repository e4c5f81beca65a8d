"""bench/loadgen against the test broker with a tiny workload."""

import json
import os
import shutil
import subprocess

import pytest

import helpers


@pytest.fixture(scope="module")
def loadgen(tmp_path_factory):
    """build/bench/loadgen if the Makefile built it, else compiled here."""
    built = os.path.join(helpers.REPO, os.environ.get("BUILD", "build"), "bench", "loadgen")
    if os.access(built, os.X_OK):
        return built
    if shutil.which("gcc") is None:
        pytest.skip("no gcc to build bench/loadgen.c")
    out = str(tmp_path_factory.mktemp("loadgen") / "loadgen")
    res = subprocess.run(["gcc", "-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra",
                          os.path.join(helpers.REPO, "bench", "loadgen.c"), "-lrdkafka", "-lpthread", "-o", out],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, "loadgen.c does not compile:\n" + res.stderr
    return out


def run_loadgen(binary, *args):
    res = helpers.run([binary] + [str(a) for a in args], timeout=90, check=False)
    lines = [l for l in res.stdout.splitlines() if l.startswith("{")]
    assert res.returncode == 0 and len(lines) == 1, "loadgen %s: exit %d\nstdout: %s\nstderr: %s" % (
        args[0], res.returncode, res.stdout, res.stderr[-3000:])
    return json.loads(lines[0])


def test_loadgen_produce_consume_e2e(shared_broker, loadgen, topic_name):
    t = topic_name()
    common = ["-b", shared_broker.bootstrap, "-t", t, "--duration", "60"]
    p = run_loadgen(loadgen, "produce", *common, "-n", 1000, "-s", 100, "-p", 3, "-k", "-z", "lz4")
    assert (p["mode"], p["msgs"], p["bytes"], p["errors"]) == ("produce", 1000, 100000, 0), p
    assert 0 < p["p50_ms"] <= p["p99_ms"] <= p["p999_ms"] <= p["max_ms"]
    assert helpers.latest_offset(shared_broker.bootstrap, t, 0) + helpers.latest_offset(shared_broker.bootstrap, t, 1) \
        + helpers.latest_offset(shared_broker.bootstrap, t, 2) == 1000
    c = run_loadgen(loadgen, "consume", *common, "-n", 1000)
    assert (c["mode"], c["msgs"], c["bytes"], c["errors"]) == ("consume", 1000, 100000, 0), c
    e = run_loadgen(loadgen, "e2e", *common, "-n", 300, "-r", 1000, "-s", 64)
    assert (e["mode"], e["msgs"], e["errors"]) == ("e2e", 300, 0), e
    assert e["max_ms"] > 0
    for r in (p, c, e):
        assert set(r) >= {"mode", "msgs", "bytes", "secs", "msgs_per_sec", "mb_per_sec", "p50_ms", "p99_ms",
                          "p999_ms", "max_ms"}
