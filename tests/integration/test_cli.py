"""The client side of the fjord binary: topic, produce, consume, group, cluster.

Every subcommand runs as a subprocess against a real broker. Human output is
checked for its rows (and that tables line up, with no tabs), --format json
must parse and carry the right values, and every error must be exactly one
line on stderr ("fjord: ...") with exit code 1 (operation) or 2 (usage).
"""

import json
import os
import signal
import subprocess
import time

import pytest

import helpers
from conftest import broker_binary, free_port


def fj(b, *args, input=None, timeout=60, brokers=None, env=None):
    """Runs `fjord ARGS -b <broker>`; returns the CompletedProcess (bytes)."""
    cmd = [broker_binary()] + list(args)
    if b is not None or brokers:
        cmd += ["-b", brokers or b.bootstrap]
    e = dict(os.environ)
    e.pop("FJORD_BROKERS", None)
    e.update(env or {})
    if isinstance(input, str):
        input = input.encode()
    return subprocess.run(cmd, input=input, capture_output=True, timeout=timeout, env=e)


def ok(b, *args, **kw):
    p = fj(b, *args, **kw)
    assert p.returncode == 0, "fjord %s: exit %d\nstdout: %s\nstderr: %s" % (
        " ".join(args), p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"))
    return p.stdout.decode()


def js(b, *args, **kw):
    return json.loads(ok(b, *(list(args) + ["--format", "json"]), **kw))


def fails(b, *args, code=1, contains=None, **kw):
    """The command fails with `code` and exactly one line on stderr."""
    p = fj(b, *args, **kw)
    err = p.stderr.decode()
    assert p.returncode == code, "fjord %s: exit %d, want %d; stderr: %s" % (" ".join(args), p.returncode, code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, "want one error line, got: %r" % err
    assert lines[0].startswith("fjord: "), lines[0]
    if contains:
        assert contains in lines[0], lines[0]
    return lines[0]


def table(text):
    """Parses an aligned table (the block starting at its header) into dicts; checks alignment."""
    lines = [l for l in text.splitlines()]
    assert "\t" not in text, "tabs in table output"
    header = lines[0]
    cols = header.split()
    starts = [header.index(c) for c in cols]
    rows = []
    for line in lines[1:]:
        if not line.strip():
            break
        cells = []
        for i, s in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(line)
            assert s == 0 or line[s - 1] == " ", "column %s misaligned in %r" % (cols[i], line)
            cells.append(line[s:end].strip())
        rows.append(dict(zip(cols, cells)))
    return rows


def section(text, title):
    """The lines after a line equal to `title`, up to the next blank line."""
    lines = text.splitlines()
    i = lines.index(title)
    return "\n".join(lines[i + 1:])


def produce(b, topic, lines, *extra):
    return fj(b, "produce", topic, *extra, input="".join(l + "\n" for l in lines))


# ---------------------------------------------------------------- help and usage


HELP_COMMANDS = [
    ["topic"], ["topic", "create"], ["topic", "list"], ["topic", "describe"], ["topic", "alter-config"],
    ["topic", "add-partitions"], ["topic", "delete"], ["topic", "trim-prefix"], ["produce"], ["consume"],
    ["group"], ["group", "list"], ["group", "describe"], ["group", "lag"], ["group", "reset-offsets"],
    ["group", "delete"], ["cluster"], ["cluster", "info"], ["cluster", "config"], ["cluster", "config", "get"],
    ["cluster", "config", "set"],
]


@pytest.mark.parametrize("cmd", HELP_COMMANDS, ids=lambda c: "-".join(c))
def test_help(cmd):
    out = ok(None, *(cmd + ["--help"]))
    assert out.startswith("usage: fjord " + cmd[0])
    if len(cmd) > 1 and cmd != ["cluster", "config"]:
        assert "--brokers" in out and "--timeout" in out


def test_usage_errors():
    fails(None, "topic", "create", "t", "--bogus", code=2, contains="unknown option '--bogus'")
    fails(None, "topic", "frobnicate", code=2, contains="unknown subcommand")
    fails(None, "topic", "create", code=2, contains="topic")
    fails(None, "topic", "create", "t", "-p", "-5", code=2, contains="invalid partition count '-5'")
    fails(None, "topic", "create", "t", "-p", "0", code=2, contains="invalid partition count")
    fails(None, "topic", "create", "t", "-p", "x3", code=2)
    fails(None, "topic", "create", "t", "-c", "novalue", code=2, contains="key=value")
    fails(None, "topic", "add-partitions", "t", "-n", "-3", code=2, contains="invalid partition count")
    fails(None, "topic", "list", "--timeout", "soon", code=2, contains="--timeout")
    fails(None, "consume", "t", "-o", "yesterday", code=2, contains="invalid offset")
    fails(None, "produce", "t", "--acks", "2", code=2, contains="--acks")
    fails(None, "group", "reset-offsets", "g", "--topic", "t", code=2, contains="--to-")
    fails(None, "group", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--to-latest", code=2)
    fails(None, "topic", "list", "--format", "yaml", code=2, contains="--format")
    p = fj(None, "nosuchcommand")
    assert p.returncode == 2


def test_unreachable_broker_is_one_line_and_bounded():
    dead = "127.0.0.1:%d" % free_port()
    t0 = time.monotonic()
    line = fails(None, "topic", "list", "--timeout", "1s", brokers=dead, contains="timed out after 1 s")
    assert time.monotonic() - t0 < 10
    assert dead in line
    fails(None, "topic", "create", "x", "--timeout", "1s", brokers=dead, contains="timed out")
    # -v lets librdkafka's log through.
    p = fj(None, "topic", "list", "--timeout", "1s", "-v", brokers=dead)
    assert p.returncode == 1 and "librdkafka" in p.stderr.decode()


def test_brokers_from_environment(shared_broker, topic_name):
    t = topic_name()
    ok(None, "topic", "create", t, env={"FJORD_BROKERS": shared_broker.bootstrap})
    assert t in ok(None, "topic", "list", env={"FJORD_BROKERS": shared_broker.bootstrap})


# ---------------------------------------------------------------- topics


def test_topic_create_list_describe(shared_broker, topic_name):
    b, t = shared_broker, topic_name()
    rows = table(ok(b, "topic", "create", t, "-p", "3", "-r", "1", "-c", "retention.ms=123456",
                    "-c", "cleanup.policy=delete"))
    assert rows == [{"TOPIC": t, "STATUS": "created"}]

    rows = table(ok(b, "topic", "list"))
    assert {"NAME": t, "PARTITIONS": "3", "REPLICAS": "1"} in rows
    assert {"name": t, "partitions": 3, "replicas": 1} in js(b, "topic", "list")

    assert produce(b, t, ["a", "b", "c"], "-p", "2").returncode == 0
    out = ok(b, "topic", "describe", t)
    assert out.splitlines()[0].split() == ["NAME", t]
    cfg = {r["KEY"]: r for r in table(section(out, "CONFIGS"))}
    assert cfg["retention.ms"]["VALUE"] == "123456"
    assert cfg["retention.ms"]["SOURCE"] == "dynamic-topic"
    parts = table(section(out, "PARTITIONS"))
    assert [p["PARTITION"] for p in parts] == ["0", "1", "2"]
    assert parts[2]["HIGH-WATERMARK"] == "3" and parts[2]["LOW-WATERMARK"] == "0"
    assert parts[0]["HIGH-WATERMARK"] == "0"
    assert all(p["LEADER"] == p["REPLICAS"] == p["ISR"] for p in parts)

    [d] = js(b, "topic", "describe", t)
    assert d["name"] == t and d["partitions_count"] == 3
    assert [p["high_watermark"] for p in d["partitions"]] == [0, 0, 3]
    assert all(p["isr"] == p["replicas"] == [p["leader"]] for p in d["partitions"])
    configs = {c["name"]: c for c in d["configs"]}
    assert configs["retention.ms"] == {"name": "retention.ms", "value": "123456", "source": "dynamic-topic",
                                      "read_only": False, "sensitive": False}
    assert configs["segment.bytes"]["source"] in ("default", "static-broker")

    rows = table(ok(b, "topic", "delete", t))
    assert rows == [{"TOPIC": t, "STATUS": "deleted"}]
    helpers.wait_until(lambda: t not in ok(b, "topic", "list"), timeout=10, what="topic gone")


def test_topic_errors(shared_broker, topic_name):
    b, t = shared_broker, topic_name()
    ok(b, "topic", "create", t)
    fails(b, "topic", "create", t, contains="topic '%s' already exists" % t)
    fails(b, "topic", "create", topic_name(), "-c", "retention.ms=soon", contains="invalid config")
    fails(b, "topic", "create", topic_name(), "-c", "no.such.config=1", contains="no.such.config")
    fails(b, "topic", "create", "bad/name", contains="bad/name")
    missing = topic_name("-missing")
    fails(b, "topic", "delete", missing, contains="topic '%s' does not exist" % missing)
    fails(b, "topic", "describe", missing, contains="topic '%s' does not exist" % missing)
    fails(b, "topic", "alter-config", missing, "--set", "retention.ms=1", contains="does not exist")
    fails(b, "topic", "add-partitions", missing, "--num", "1", contains="does not exist")
    fails(b, "topic", "trim-prefix", missing, "-o", "0", contains="does not exist")
    # JSON mode reports the failure per topic too.
    p = fj(b, "topic", "create", t, "--format", "json")
    assert p.returncode == 1
    [r] = json.loads(p.stdout)
    assert r["status"] == "error" and "already exists" in r["error"]


def test_topic_dry_run_creates_nothing(shared_broker, topic_name):
    b, t = shared_broker, topic_name()
    ok(b, "topic", "create", t, "--dry-run")
    assert t not in ok(b, "topic", "list")


def test_topic_alter_config(shared_broker, topic_name):
    b, t = shared_broker, topic_name()
    ok(b, "topic", "create", t, "-c", "retention.ms=3600000")

    def dynamic():
        [d] = js(b, "topic", "describe", t)
        return {c["name"]: c["value"] for c in d["configs"] if c["source"] == "dynamic-topic"}

    rows = table(ok(b, "topic", "alter-config", t, "--set", "segment.ms=600000", "--set", "max.message.bytes=2000000"))
    assert rows == [{"TOPIC": t, "STATUS": "updated"}]
    # AlterConfigs replaces the set; the earlier key must survive the read-modify-write.
    assert dynamic() == {"retention.ms": "3600000", "segment.ms": "600000", "max.message.bytes": "2000000"}
    ok(b, "topic", "alter-config", t, "--delete", "segment.ms", "--set", "retention.ms=7200000")
    assert dynamic() == {"retention.ms": "7200000", "max.message.bytes": "2000000"}
    assert js(b, "topic", "alter-config", t, "--set", "retention.ms=1000") == {"topic": t, "status": "updated"}

    fails(b, "topic", "alter-config", t, "--set", "retention.ms=abc", contains="retention.ms")
    fails(b, "topic", "alter-config", t, "--set", "no.such.config=1", contains="no.such.config")
    fails(b, "topic", "alter-config", t, code=2, contains="nothing to change")
    assert dynamic()["retention.ms"] == "1000"


def test_topic_add_partitions(shared_broker, topic_name):
    b, t = shared_broker, topic_name()
    ok(b, "topic", "create", t, "-p", "2")
    assert table(ok(b, "topic", "add-partitions", t, "-n", "4")) == [{"TOPIC": t, "STATUS": "partitions added"}]
    [d] = js(b, "topic", "describe", t)
    assert d["partitions_count"] == 4
    ok(b, "topic", "add-partitions", t, "--num", "2")
    [d] = js(b, "topic", "describe", t)
    assert d["partitions_count"] == 6
    fails(b, "topic", "add-partitions", t, "-n", "3", contains="invalid partition count")
    fails(b, "topic", "add-partitions", t, code=2, contains="-n TOTAL")


def test_topic_trim_prefix(shared_broker, topic_name):
    b, t = shared_broker, topic_name()
    ok(b, "topic", "create", t, "-p", "2")
    assert produce(b, t, [str(i) for i in range(10)], "-p", "0").returncode == 0
    rows = table(ok(b, "topic", "trim-prefix", t, "-o", "4", "-p", "0"))
    assert rows == [{"TOPIC": t, "PARTITION": "0", "LOW-WATERMARK": "4"}]
    [d] = js(b, "topic", "describe", t)
    assert [(p["low_watermark"], p["high_watermark"]) for p in d["partitions"]] == [(4, 10), (0, 0)]
    out = ok(b, "consume", t, "-e")
    assert out.split() == ["4", "5", "6", "7", "8", "9"]
    fails(b, "topic", "trim-prefix", t, "-o", "100", "-p", "0", contains="beyond the high watermark")
    fails(b, "topic", "trim-prefix", t, "-o", "1", "-p", "7", contains="no partition 7")
    res = js(b, "topic", "trim-prefix", t, "-o", "end")
    assert [(r["partition"], r["low_watermark"]) for r in res] == [(0, 10), (1, 0)]


# ---------------------------------------------------------------- produce / consume


def test_produce_consume_round_trip(shared_broker, topic_name):
    b, t = shared_broker, topic_name()
    ok(b, "topic", "create", t, "-p", "3")
    lines = ["k1::v1", "k2::value with :: twice", "nokey", "::empty key", "k5::", "", "ünïcødé::☃"]
    p = produce(b, t, lines, "-k", "::", "-H", "h1=x", "-H", "h2=a=b", "-p", "1")
    assert p.returncode == 0, p.stderr
    assert p.stderr.decode().strip() == "produced 7 records to topic '%s'" % t
    recs = [json.loads(l) for l in ok(b, "consume", t, "-e", "--format", "json").splitlines()]
    want = [("k1", "v1"), ("k2", "value with :: twice"), (None, "nokey"), ("", "empty key"), ("k5", ""),
            (None, ""), ("ünïcødé", "☃")]
    assert [(r["key"], r["value"]) for r in recs] == want
    assert [r["offset"] for r in recs] == list(range(7))
    assert all(r["partition"] == 1 and r["topic"] == t for r in recs)
    assert all(r["headers"] == [{"key": "h1", "value": "x"}, {"key": "h2", "value": "a=b"}] for r in recs)
    assert all(r["timestamp"] > 0 for r in recs)

    out = ok(b, "consume", t, "-e", "-f", r"%T|%p|%o|%k|%v|%h|%%\n")
    assert out.splitlines()[0] == "%s|1|0|k1|v1|h1=x,h2=a=b|%%" % t
    assert out.splitlines()[5] == "%s|1|5|||h1=x,h2=a=b|%%" % t
    # Default format: the value and a newline, byte for byte.
    assert ok(b, "consume", t, "-e", "-n", "3").encode() == b"v1\nvalue with :: twice\nnokey\n"


def test_binary_values_round_trip(shared_broker, topic_name):
    b, t = shared_broker, topic_name()
    ok(b, "topic", "create", t)
    raw = bytes(range(256)).replace(b"\n", b"")
    p = fj(b, "produce", t, input=raw + b"\n" + b"\xff\xfe\n")
    assert p.returncode == 0, p.stderr
    out = fj(b, "consume", t, "-e", "-f", r"%v\n").stdout
    assert out == raw + b"\n" + b"\xff\xfe\n"
    recs = [json.loads(l) for l in ok(b, "consume", t, "-e", "--format", "json").splitlines()]
    import base64
    assert recs[1]["value_encoding"] == "base64" and base64.b64decode(recs[1]["value"]) == b"\xff\xfe"


def test_produce_json_reports_offsets_and_compression(shared_broker, topic_name):
    b, t = shared_broker, topic_name()
    ok(b, "topic", "create", t)
    for codec in ["gzip", "snappy", "lz4", "zstd"]:
        out = ok(b, "produce", t, "-z", codec, "--acks", "1", "--format", "json", input="a\nb\n")
        recs = [json.loads(l) for l in out.splitlines()]
        assert [r["line"] for r in recs] == [1, 2]
        assert recs[1]["offset"] == recs[0]["offset"] + 1
    assert ok(b, "consume", t, "-e").split() == ["a", "b"] * 4


def test_consume_offsets(shared_broker, topic_name):
    b, t = shared_broker, topic_name()
    ok(b, "topic", "create", t)
    assert produce(b, t, ["r%d" % i for i in range(6)]).returncode == 0
    assert ok(b, "consume", t, "-o", "3", "-e").split() == ["r3", "r4", "r5"]
    assert ok(b, "consume", t, "-o", "-2", "-n", "2").split() == ["r0", "r1"]
    assert ok(b, "consume", t, "-o", "beginning", "-n", "1").split() == ["r0"]
    assert ok(b, "consume", t, "-o", "end", "-e").split() == []
    assert ok(b, "consume", t, "-o", "-1", "-e").split() == []
    recs = [json.loads(l) for l in ok(b, "consume", t, "-e", "--format", "json").splitlines()]
    ts = recs[4]["timestamp"]
    got = ok(b, "consume", t, "-o", "@%d" % ts, "-e").split()
    assert got[-2:] == ["r4", "r5"] and "r4" in got
    assert ok(b, "consume", t, "-o", "@%d" % (ts + 3600 * 1000), "-e").split() == []


def test_consume_and_produce_missing_topic(broker, topic_name):
    b = broker({"auto.create.topics.enable": "false"})
    t = topic_name()
    fails(b, "consume", t, "-e", contains="topic '%s' does not exist" % t)
    p = produce(b, t, ["x", "y"], "--timeout", "5s")
    assert p.returncode == 1
    err = p.stderr.decode()
    assert "does not exist" in err and "2 failed" in err.splitlines()[-1]
    assert all(l.startswith("fjord: ") or l.startswith("produced") for l in err.strip().splitlines())
    ok(b, "topic", "create", t, "-p", "2")
    fails(b, "consume", t, "-p", "5", "-e", contains="no partition 5")


# ---------------------------------------------------------------- groups


def group_desc(b, g):
    [d] = js(b, "group", "describe", g)
    return d


def test_group_lifecycle(shared_broker, topic_name):
    b, t = shared_broker, topic_name()
    g = "g-" + t
    ok(b, "topic", "create", t, "-p", "2")
    assert produce(b, t, ["a%d" % i for i in range(5)], "-p", "0").returncode == 0
    assert produce(b, t, ["b%d" % i for i in range(3)], "-p", "1").returncode == 0

    got = ok(b, "consume", t, "-g", g, "-n", "8").split()
    assert sorted(got) == sorted(["a%d" % i for i in range(5)] + ["b%d" % i for i in range(3)])
    # A second run of the group starts after what it committed.
    assert produce(b, t, ["a5"], "-p", "0").returncode == 0
    assert ok(b, "consume", t, "-g", g, "-n", "1").split() == ["a5"]

    assert {"GROUP": g, "STATE": "Empty"} in table(ok(b, "group", "list"))
    assert {"group": g, "state": "Empty", "simple": False} in js(b, "group", "list")

    d = group_desc(b, g)
    assert d["state"] == "Empty" and d["members"] == []
    assert [(p["partition"], p["committed"], p["high_watermark"], p["lag"]) for p in d["partitions"]] == [
        (0, 6, 6, 0), (1, 3, 3, 0)]
    assert d["total_lag"] == 0
    out = ok(b, "group", "describe", g)
    assert "STATE        Empty" in out
    rows = table(section(out, "OFFSETS"))
    assert [(r["PARTITION"], r["CURRENT-OFFSET"], r["LOG-END-OFFSET"], r["LAG"]) for r in rows] == [
        ("0", "6", "6", "0"), ("1", "3", "3", "0")]

    # lag = high watermark - committed offset.
    assert produce(b, t, ["a6", "a7"], "-p", "0").returncode == 0
    [lag] = js(b, "group", "lag", g)
    assert [(p["partition"], p["lag"]) for p in lag["partitions"]] == [(0, 2), (1, 0)] and lag["total_lag"] == 2
    out = ok(b, "group", "lag", g)
    assert [r["LAG"] for r in table(out)] == ["2", "0"]
    assert "TOTAL-LAG  2" in out

    # reset-offsets: dry run changes nothing.
    res = js(b, "group", "reset-offsets", g, "--topic", t, "--to-earliest", "--dry-run")
    assert res["dry_run"] is True
    assert [(p["partition"], p["old_offset"], p["new_offset"]) for p in res["partitions"]] == [(0, 6, 0), (1, 3, 0)]
    assert [p["committed"] for p in group_desc(b, g)["partitions"]] == [6, 3]

    rows = table(ok(b, "group", "reset-offsets", g, "--topic", t, "--to-offset", "2"))
    assert [(r["PARTITION"], r["OLD-OFFSET"], r["NEW-OFFSET"]) for r in rows] == [("0", "6", "2"), ("1", "3", "2")]
    assert [p["committed"] for p in group_desc(b, g)["partitions"]] == [2, 2]
    assert ok(b, "consume", t, "-g", g, "-n", "7").split().count("a2") == 1

    ok(b, "group", "reset-offsets", g, "--topic", t, "--to-latest", "-p", "1")
    ok(b, "group", "reset-offsets", g, "--topic", t, "--to-earliest", "-p", "0")
    assert [p["committed"] for p in group_desc(b, g)["partitions"]] == [0, 3]
    # Clamped to the high watermark.
    ok(b, "group", "reset-offsets", g, "--topic", t, "--to-offset", "1000")
    assert [p["committed"] for p in group_desc(b, g)["partitions"]] == [8, 3]

    recs = [json.loads(l) for l in ok(b, "consume", t, "-p", "0", "-e", "--format", "json").splitlines()]
    ok(b, "group", "reset-offsets", g, "--topic", t, "--to-datetime", str(recs[6]["timestamp"]), "-p", "0")
    assert group_desc(b, g)["partitions"][0]["committed"] <= 6

    assert table(ok(b, "group", "delete", g)) == [{"GROUP": g, "STATUS": "deleted"}]
    fails(b, "group", "describe", g, contains="group '%s' does not exist" % g)
    fails(b, "group", "delete", g, contains="group '%s'" % g)


def test_group_with_live_member(shared_broker, topic_name):
    b, t = shared_broker, topic_name()
    g = "g-" + t
    ok(b, "topic", "create", t, "-p", "2")
    proc = subprocess.Popen([broker_binary(), "consume", t, "-g", g, "-b", b.bootstrap],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        def joined():
            p = fj(b, "group", "describe", g, "--format", "json")
            d = json.loads(p.stdout)[0] if p.returncode == 0 else None
            return d if d and d["state"] == "Stable" and d["members"] else None

        d = helpers.wait_until(joined, timeout=30, what="consumer to join")
        [m] = d["members"]
        assert m["client_id"] == "fjord" and m["member_id"]
        assert sorted((a["topic"], a["partition"]) for a in m["assignments"]) == [(t, 0), (t, 1)]
        assert all(p["member_id"] == m["member_id"] for p in d["partitions"])
        out = ok(b, "group", "describe", g)
        rows = table(section(out, "MEMBERS"))
        assert rows[0]["MEMBER-ID"] == m["member_id"] and rows[0]["ASSIGNMENTS"] == "%s/0,%s/1" % (t, t)

        fails(b, "group", "reset-offsets", g, "--topic", t, "--to-earliest", contains="is not empty")
        fails(b, "group", "delete", g, contains="is not empty")

        assert produce(b, t, ["live"], "-p", "1").returncode == 0
        helpers.wait_until(lambda: any(p["committed"] == 1 for p in group_desc(b, g)["partitions"]),
                           timeout=30, what="auto commit")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out == b"live\n"
    helpers.wait_until(lambda: group_desc(b, g)["state"] == "Empty", timeout=30, what="group to empty")


# ---------------------------------------------------------------- cluster


def test_cluster_info(shared_broker):
    b = shared_broker
    info = js(b, "cluster", "info")
    assert info["cluster_id"] and info["controller"] == info["brokers"][0]["id"]
    assert info["brokers"] == [{"id": info["controller"], "host": "127.0.0.1", "port": b.port, "controller": True}]
    out = ok(b, "cluster", "info")
    assert out.splitlines()[0].split() == ["CLUSTER", info["cluster_id"]]
    rows = table(section(out, "BROKERS"))
    assert rows == [{"ID": str(info["controller"]), "HOST": "127.0.0.1", "PORT": str(b.port), "ROLE": "controller"}]


def test_cluster_config(broker):
    b = broker()
    cfg = {c["name"]: c for c in js(b, "cluster", "config", "get")}
    assert cfg["log.retention.hours"]["value"] == "168" and cfg["log.retention.hours"]["source"] == "default"
    assert cfg["auto.create.topics.enable"]["source"] == "static-broker"
    rows = table(ok(b, "cluster", "config", "get", "num.partitions"))
    assert rows == [{"KEY": "num.partitions", "VALUE": "1", "SOURCE": "static-broker"}]

    assert table(ok(b, "cluster", "config", "set", "log.retention.ms=7200000")) == [
        {"BROKER": "1", "KEY": "log.retention.ms", "STATUS": "updated"}]
    ok(b, "cluster", "config", "set", "log.roll.ms=3600000")
    one = js(b, "cluster", "config", "get", "log.retention.ms")
    # AlterConfigs replaces the dynamic set; the read-modify-write keeps the first key.
    assert one["value"] == "7200000" and one["source"] == "dynamic-broker"
    assert js(b, "cluster", "config", "get", "log.roll.ms")["value"] == "3600000"
    ok(b, "cluster", "config", "set", "--delete", "log.retention.ms")
    assert js(b, "cluster", "config", "get", "log.retention.ms")["source"] != "dynamic-broker"
    assert js(b, "cluster", "config", "get", "log.roll.ms")["source"] == "dynamic-broker"

    fails(b, "cluster", "config", "set", "no.such.key=1", contains="no.such.key")
    fails(b, "cluster", "config", "set", "log.retention.ms=abc", contains="log.retention.ms")
    fails(b, "cluster", "config", "get", "no.such.key", contains="no config 'no.such.key'")
    fails(b, "cluster", "config", "set", code=2, contains="nothing to change")
