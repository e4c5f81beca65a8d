"""Client-side helpers shared by the integration tests (confluent-kafka, kcat, node).

Every wait here is bounded in time; every loop is bounded in count.
"""

import json
import os
import subprocess
import time

import confluent_kafka
from confluent_kafka import Consumer, Producer, TopicPartition

import kwire

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
JS_DIR = os.path.join(REPO, "tests", "js")


def recent_ts(hours_ago=1):
    """A whole-second timestamp (ms) `hours_ago` hours back: old enough to be
    distinct from "now", young enough for any default retention."""
    return (int(time.time()) - int(hours_ago * 3600)) * 1000


def wait_until(pred, timeout=20.0, interval=0.1, what="condition"):
    """Poll pred() until it returns something truthy; return it or fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s (last value %r)" % (timeout, what, last))


# ---------------------------------------------------------------- topics (raw, exact errors)

def create_topic(bootstrap, name, partitions=1, config=None):
    with kwire.Conn(bootstrap) as c:
        err, msg = kwire.create_topics(c, [(name, partitions, config)])[name]
    assert err == kwire.NONE, "CreateTopics %s failed: error %d (%s)" % (name, err, msg)
    return name


def latest_offset(bootstrap, topic, partition=0):
    with kwire.Conn(bootstrap) as c:
        p = kwire.list_offset(c, topic, partition, kwire.LATEST)
    assert p["ErrorCode"] == 0, "ListOffsets latest error %d" % p["ErrorCode"]
    return p["Offset"]


def earliest_offset(bootstrap, topic, partition=0):
    with kwire.Conn(bootstrap) as c:
        p = kwire.list_offset(c, topic, partition, kwire.EARLIEST)
    assert p["ErrorCode"] == 0, "ListOffsets earliest error %d" % p["ErrorCode"]
    return p["Offset"]


def fetch_all_raw(bootstrap, topic, partition=0, start=0, version=11, max_rounds=10000):
    """Every record from `start` to the high watermark, read with raw Fetch (v11 by default)."""
    out = []
    offset = start
    with kwire.Conn(bootstrap) as c:
        for _ in range(max_rounds):
            p = kwire.fetch(c, topic, partition, offset, version=version, max_wait_ms=0)
            assert p["ErrorCode"] == 0, "Fetch at %d: error %d" % (offset, p["ErrorCode"])
            recs = [r for b in p["batches"] if b["records"] for r in b["records"] if r["offset"] >= offset]
            if not recs:
                assert offset >= p["HighWatermark"], "no records at %d below HW %d" % (offset, p["HighWatermark"])
                return out
            out.extend(recs)
            offset = recs[-1]["offset"] + 1
    raise AssertionError("fetch_all_raw: too many rounds")


# ---------------------------------------------------------------- confluent-kafka

def producer(bootstrap, **conf):
    c = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, "broker.address.family": "v4",
         "message.timeout.ms": 30000}
    c.update({k.replace("_", "."): v for k, v in conf.items()})
    return Producer(c)


def produce_all(bootstrap, topic, messages, timeout=60.0, **conf):
    """Produce messages (dicts: value, key, headers, timestamp, partition) and wait for
    every delivery report. Returns the reports as dicts, in message order."""
    p = producer(bootstrap, **conf)
    reports = [None] * len(messages)

    def on_delivery(i):
        def cb(err, msg):
            reports[i] = {"error": err, "partition": msg.partition(), "offset": msg.offset()}
        return cb

    for i, m in enumerate(messages):
        kw = {k: m[k] for k in ("key", "headers", "timestamp", "partition") if m.get(k) is not None}
        for _ in range(1000):  # bounded retry on a full local queue
            try:
                p.produce(topic, value=m.get("value"), on_delivery=on_delivery(i), **kw)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(timeout)
    assert left == 0, "%d messages still undelivered after %.0f s" % (left, timeout)
    errors = [(i, r["error"]) for i, r in enumerate(reports) if r is None or r["error"] is not None]
    assert not errors, "delivery failed for %d messages, first: %r" % (len(errors), errors[:3])
    return reports


def consume(bootstrap, topic, partitions, count, timeout=60.0, offset=confluent_kafka.OFFSET_BEGINNING, **conf):
    """Read `count` messages from the given partitions with assign() (no group
    membership, no commits); returns dicts sorted by (partition, offset)."""
    c = {"bootstrap.servers": bootstrap, "group.id": "fjord-test-unused", "enable.auto.commit": False,
         "enable.auto.offset.store": False, "auto.offset.reset": "error", "broker.address.family": "v4"}
    c.update({k.replace("_", "."): v for k, v in conf.items()})
    consumer = Consumer(c)
    try:
        consumer.assign([TopicPartition(topic, p, offset) for p in partitions])
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count and time.monotonic() < deadline:
            for m in consumer.consume(num_messages=min(1000, count - len(out)), timeout=0.5):
                assert m.error() is None, "consumer error: %s" % m.error()
                out.append(msg_dict(m))
        assert len(out) == count, "consumed %d of %d messages within %.0f s" % (len(out), count, timeout)
        # Nothing beyond what was expected shows up.
        extra = [m for m in consumer.consume(num_messages=10, timeout=0.5) if m.error() is None]
        assert not extra, "unexpected extra messages, first at %s:%d" % (extra[0].partition(), extra[0].offset())
    finally:
        consumer.close()
    return sorted(out, key=lambda m: (m["partition"], m["offset"]))


def msg_dict(m):
    ts_type, ts = m.timestamp()
    return {"partition": m.partition(), "offset": m.offset(), "key": m.key(), "value": m.value(),
            "headers": [(k, v) for k, v in (m.headers() or [])], "timestamp": ts}


# ---------------------------------------------------------------- external programs

def run(cmd, input=None, timeout=60.0, check=True):
    """Run a program with a time bound; returns CompletedProcess (text mode)."""
    try:
        res = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout, text=True)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("%s did not finish within %.0f s; stderr: %s" % (cmd[0], timeout, e.stderr))
    if check:
        assert res.returncode == 0, "%s exited %d\nstdout: %s\nstderr: %s" % (
            " ".join(cmd), res.returncode, res.stdout[-2000:], res.stderr[-2000:])
    return res


def run_js(script, *args, timeout=60.0):
    """Run tests/js/<script> with node; it prints one JSON document on stdout."""
    res = run(["node", os.path.join(JS_DIR, script)] + [str(a) for a in args], timeout=timeout, check=False)
    try:
        out = json.loads(res.stdout.strip().splitlines()[-1]) if res.stdout.strip() else None
    except ValueError:
        out = None
    assert res.returncode == 0 and out is not None, "%s %s failed (exit %d)\nstdout: %s\nstderr: %s" % (
        script, " ".join(map(str, args)), res.returncode, res.stdout[-3000:], res.stderr[-3000:])
    return out
