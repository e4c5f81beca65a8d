"""Restart keeps everything; kill -9 loses no acknowledged (acks=all) message."""

import os
import re
import threading
import time
import urllib.request

import pytest

import helpers
import kwire


def snapshot(bootstrap, topics):
    """{topic: [(partition, earliest, latest)]} from Metadata + ListOffsets."""
    out = {}
    with kwire.Conn(bootstrap) as c:
        md = {t["Name"]: t for t in kwire.metadata(c, None)["Topics"]}
        for t in topics:
            assert t in md and md[t]["ErrorCode"] == 0, "topic %s missing after restart" % t
            parts = sorted(p["PartitionIndex"] for p in md[t]["Partitions"])
            out[t] = [(p, kwire.list_offset(c, t, p, kwire.EARLIEST)["Offset"],
                       kwire.list_offset(c, t, p, kwire.LATEST)["Offset"]) for p in parts]
    return out


def test_clean_restart_keeps_everything(broker, topic_name):
    b = broker()
    t1 = helpers.create_topic(b.bootstrap, topic_name("-a"), partitions=3, config={"retention.ms": "86400000"})
    t2 = helpers.create_topic(b.bootstrap, topic_name("-b"), partitions=1)
    ts = helpers.recent_ts()
    msgs = [{"key": b"k%d" % i, "value": b"v%d" % i, "headers": [("i", b"%d" % i)], "timestamp": ts + i}
            for i in range(3000)]
    helpers.produce_all(b.bootstrap, t1, msgs, linger_ms=10)
    helpers.produce_all(b.bootstrap, t2, msgs[:10], compression_type="zstd")
    before = snapshot(b.bootstrap, [t1, t2])
    data_before = helpers.consume(b.bootstrap, t1, range(3), 3000)

    b.restart()
    assert snapshot(b.bootstrap, [t1, t2]) == before
    assert helpers.consume(b.bootstrap, t1, range(3), 3000) == data_before
    assert [m["value"] for m in helpers.consume(b.bootstrap, t2, [0], 10)] == [m["value"] for m in msgs[:10]]

    # The log continues where it was: the next offset follows the old end.
    reports = helpers.produce_all(b.bootstrap, t2, [{"value": b"after"}])
    assert reports[0]["offset"] == 10
    # A deleted topic stays deleted across a restart.
    with kwire.Conn(b.bootstrap) as c:
        assert kwire.delete_topics(c, [t2])[t2] == kwire.NONE
    b.restart()
    with kwire.Conn(b.bootstrap) as c:
        names = {t["Name"] for t in kwire.metadata(c, None)["Topics"]}
    assert t1 in names and t2 not in names


def test_kill9_after_acks_loses_nothing(broker, topic_name):
    b = broker()
    t = helpers.create_topic(b.bootstrap, topic_name(), partitions=2)
    msgs = [{"key": b"k%d" % i, "value": b"v%d" % i, "headers": [("i", b"%d" % i)]} for i in range(2000)]
    reports = helpers.produce_all(b.bootstrap, t, msgs, linger_ms=5)
    b.kill9()
    b.start()
    got = helpers.consume(b.bootstrap, t, [0, 1], len(msgs))
    index = {(m["partition"], m["offset"]): m for m in got}
    for m, r in zip(msgs, reports):
        c = index.get((r["partition"], r["offset"]))
        assert c is not None and (c["key"], c["value"], c["headers"]) == (m["key"], m["value"], m["headers"])
    # Offsets stay dense and continue after recovery.
    for p in (0, 1):
        offs = [m["offset"] for m in got if m["partition"] == p]
        assert offs == list(range(len(offs)))
        r = helpers.produce_all(b.bootstrap, t, [{"value": b"new", "partition": p}])
        assert r[0]["offset"] == len(offs)


@pytest.mark.parametrize("mode", ["strict", "relaxed"])
def test_kill9_during_acks_all_stream(broker, topic_name, mode):
    """Produce continuously with acks=all, kill -9 mid-stream, restart: every
    message whose delivery report said success is there, exactly. Relaxed
    flushing (no sync for minutes) acks once the data is in the files: with
    batches this large they are staged and written by O_DIRECT write jobs,
    which must still survive the process."""
    if mode == "strict":
        b = broker()
        pad, linger = b"", 2
    else:
        b = broker({"log.flush.interval.ms": "600000"})
        pad, linger = b"x" * 900, 20
    t = helpers.create_topic(b.bootstrap, topic_name(), partitions=3)
    p = helpers.producer(b.bootstrap, linger_ms=linger, message_timeout_ms=5000, retries=0,
                         queue_buffering_max_messages=20000, socket_timeout_ms=3000)
    acked, failed = {}, [0]
    lock = threading.Lock()

    def expected(value):
        """What message "stream-<seq>" was sent with (delivery reports carry no headers)."""
        i = int(value.split(b"-")[1])
        return (b"k%d" % (i % 31), value, [("seq", b"%d" % i), ("src", b"durability")])

    def on_delivery(err, msg):
        if err is None:
            with lock:
                acked[(msg.partition(), msg.offset())] = expected(msg.value())
        else:
            failed[0] += 1

    stop = threading.Event()

    def pump():
        i = 0
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline and i < 500000:
            try:
                p.produce(t, key=b"k%d" % (i % 31), value=b"stream-%08d-" % i + pad,
                          headers=[("seq", b"%d" % i), ("src", b"durability")], on_delivery=on_delivery)
                i += 1
            except BufferError:
                pass
            p.poll(0.001 if i % 100 == 0 else 0)

    th = threading.Thread(target=pump, daemon=True)
    th.start()
    want = 3000 if mode == "strict" else 20000
    helpers.wait_until(lambda: len(acked) >= want, timeout=60, interval=0.05,
                       what="%d acknowledged messages" % want)
    if mode == "relaxed":
        # The acks came from write jobs (staged appends), not from buffered writes.
        url = "http://127.0.0.1:%d/metrics" % b.http_port()
        with urllib.request.urlopen(url, timeout=10) as r:
            text = r.read().decode()
        writes = re.search(r"^fjord_log_direct_writes_total (\S+)$", text, re.M)
        assert writes and float(writes.group(1)) > 0, "no direct write jobs ran"
    b.kill9()
    time.sleep(0.3)
    stop.set()
    th.join(10)
    # Drop whatever was not acknowledged so nothing is retried into the new broker.
    p.purge(in_queue=True, in_flight=True, blocking=True)
    p.flush(10)
    with lock:
        acked_now = dict(acked)
    assert len(acked_now) >= want

    b.start()
    latest = {part: helpers.latest_offset(b.bootstrap, t, part) for part in range(3)}
    for (part, off) in acked_now:
        assert off < latest[part], "acked offset %d:%d beyond recovered log end %d" % (part, off, latest[part])
    got = helpers.consume(b.bootstrap, t, range(3), sum(latest.values()), timeout=90)
    stored = {(m["partition"], m["offset"]): (m["key"], m["value"], m["headers"]) for m in got}
    missing = [k for k in acked_now if k not in stored]
    assert not missing, "%d acknowledged messages lost, e.g. %s" % (len(missing), sorted(missing)[:5])
    wrong = [k for k, v in acked_now.items() if stored[k] != v]
    assert not wrong, "%d acknowledged messages differ, e.g. %s: %r != %r" % (
        len(wrong), wrong[0], stored[wrong[0]], acked_now[wrong[0]])
    # Recovery leaves every stored batch intact and offsets dense.
    for part in range(3):
        offs = sorted(o for (pp, o) in stored if pp == part)
        assert offs == list(range(latest[part])), "partition %d has offset gaps after recovery" % part


def test_relaxed_large_batches_are_visible_before_any_flush(broker, topic_name):
    """Relaxed flushing with batches large enough to be staged for direct
    writes: consumers see each batch once its write job has run, long before
    the flush interval (ten minutes here), in order and byte for byte, and
    the high watermark covers exactly what was acknowledged."""
    b = broker({"log.flush.interval.ms": "600000"})
    t = helpers.create_topic(b.bootstrap, topic_name(), partitions=2)
    msgs = [{"key": b"k%d" % i, "value": (b"v%06d-" % i).ljust(1500, b"x"), "partition": i % 2}
            for i in range(6000)]
    reports = helpers.produce_all(b.bootstrap, t, msgs, linger_ms=50, batch_size=1000000)
    assert all(r["error"] is None for r in reports)
    got = helpers.consume(b.bootstrap, t, [0, 1], len(msgs), timeout=30)
    assert len(got) == len(msgs)
    for p in (0, 1):
        mine = [m for m in msgs if m["partition"] == p]
        theirs = [m for m in got if m["partition"] == p]
        assert [m["value"] for m in theirs] == [m["value"] for m in mine]
        assert helpers.latest_offset(b.bootstrap, t, p) == len(mine)
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % b.http_port(), timeout=10) as r:
        text = r.read().decode()
    writes = re.search(r"^fjord_log_direct_writes_total (\S+)$", text, re.M)
    assert writes and float(writes.group(1)) > 0, "the batches were not staged"


def test_checkpoints_record_high_watermark(broker, topic_name):
    """After a clean stop the log directory's replication-offset-checkpoint
    (Kafka's text format) holds each partition's real high watermark."""
    b = broker()
    t = helpers.create_topic(b.bootstrap, topic_name(), partitions=2)
    helpers.produce_all(b.bootstrap, t, [{"value": b"x%d" % i, "partition": i % 2} for i in range(30)])
    assert helpers.latest_offset(b.bootstrap, t, 0) == 15
    b.stop()
    with open(os.path.join(b.log_dir, "replication-offset-checkpoint")) as f:
        lines = f.read().split("\n")
    assert lines[0] == "0", lines[:2]
    entries = {(l.split()[0], int(l.split()[1])): int(l.split()[2]) for l in lines[2:] if l.strip()}
    assert entries.get((t, 0)) == 15 and entries.get((t, 1)) == 15, entries


def test_sigterm_during_writes_closes_cleanly(broker, topic_name):
    """SIGTERM while syncs are running (relaxed flushing syncs early to free page cache): the
    syncs finish and are accounted before the logs close, so the stop is clean and the next
    start trusts it instead of scanning."""
    b = broker({"log.flush.interval.ms": "1000"})
    t = helpers.create_topic(b.bootstrap, topic_name(), partitions=4)
    value = b"x" * 1000
    batch = kwire.record_batch([(None, value)] * 1000)  # ~1 MB
    stop = threading.Event()
    sent = [0]

    def produce():
        try:
            with kwire.Conn(b.bootstrap) as c:
                while not stop.is_set() and sent[0] < 2000:
                    # 8 requests in flight: the broker is always appending.
                    frames = [kwire.encode_request("Produce", 7, kwire.produce_body(t, i % 4, batch, acks=1),
                                                   1000 + sent[0] + i) for i in range(8)]
                    for i in range(8):
                        c.pending[1000 + sent[0] + i] = ("Produce", 7)
                    c.send_raw(b"".join(frames))
                    for _ in range(8):
                        c.recv()
                    sent[0] += 8
        except (OSError, ConnectionError, ValueError):
            pass  # the broker went away mid-stream

    th = threading.Thread(target=produce)
    th.start()
    helpers.wait_until(lambda: sent[0] >= 200 or None, timeout=60, what="200 MB produced")
    rc = b.stop()
    stop.set()
    th.join(30)
    assert rc == 0, "broker exited with %s; stderr:\n%s" % (rc, b.tail())
    assert "not closed cleanly" not in b.stderr, b.tail()
    b.start()
    assert "recovering from segment" not in b.stderr.split("fjord broker stopped cleanly")[-1], b.tail()
