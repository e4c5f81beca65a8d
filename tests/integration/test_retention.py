"""Retention by time and by size deletes old segments and moves the log start offset."""

import os
import time

import helpers
import kwire

PROPS = {"log.retention.check.interval.ms": "300", "log.segment.delete.delay.ms": "0"}
SEGMENT = 16384


def fill(bootstrap, topic, batches, per_batch, timestamp, tag):
    """Produce `batches` raw batches of `per_batch` ~200-byte records; returns the next offset."""
    with kwire.Conn(bootstrap) as c:
        for n in range(batches):
            recs = [(b"k", b"%s-%d-%d-" % (tag, n, i) + b"r" * 180, [], timestamp) for i in range(per_batch)]
            p = kwire.produce(c, topic, 0, kwire.record_batch(recs))
            assert p["ErrorCode"] == 0, "produce error %d" % p["ErrorCode"]
    return helpers.latest_offset(bootstrap, topic)


def settled_log_start(bootstrap, topic, what):
    """Wait until the log start offset has moved and then stayed put for a few checks."""
    history = []

    def settled():
        history.append(helpers.earliest_offset(bootstrap, topic))
        tail = history[-4:]
        return tail[0] if len(tail) == 4 and tail[0] > 0 and len(set(tail)) == 1 else None
    return helpers.wait_until(settled, timeout=30, interval=0.4, what=what)


def log_bytes(b, topic):
    d = b.partition_dir(topic, 0)
    return sum(os.path.getsize(os.path.join(d, "%020d.log" % s)) for s in b.segments(topic, 0))


def test_time_retention(broker, topic_name):
    b = broker(PROPS)
    t = helpers.create_topic(b.bootstrap, topic_name(), config={"segment.bytes": str(SEGMENT), "retention.ms": "60000"})
    old = int(time.time() * 1000) - 2 * 3600 * 1000
    old_end = fill(b.bootstrap, t, 40, 10, old, b"old")  # ~80 KB: several segments, all two hours old
    assert len(b.segments(t, 0)) >= 3, "expected several segments in %s, got %s" % (
        b.partition_dir(t, 0), b.segments(t, 0))
    end = fill(b.bootstrap, t, 2, 10, int(time.time() * 1000), b"new")

    start = settled_log_start(b.bootstrap, t, "time retention to move the log start offset")
    assert 0 < start <= old_end, "log start %d should move into the old data (end %d)" % (start, old_end)
    helpers.wait_until(lambda: 0 not in b.segments(t, 0), timeout=10, what="the first segment file to be deleted")
    segs = b.segments(t, 0)
    assert segs[0] <= start, "segments %s vs log start %d" % (segs, start)
    assert helpers.latest_offset(b.bootstrap, t) == end, "retention must not touch the log end"

    # Old offsets are gone, the fresh records remain readable.
    with kwire.Conn(b.bootstrap) as c:
        assert kwire.fetch(c, t, 0, 0)["ErrorCode"] == kwire.OFFSET_OUT_OF_RANGE
    recs = helpers.fetch_all_raw(b.bootstrap, t, start=start)
    assert [r["offset"] for r in recs] == list(range(start, end))
    assert sum(1 for r in recs if r["value"].startswith(b"new-")) == 20
    got = helpers.consume(b.bootstrap, t, [0], end - start)
    assert got[0]["offset"] == start

    # The moved log start survives a restart.
    b.restart()
    assert helpers.earliest_offset(b.bootstrap, t) >= start
    assert helpers.latest_offset(b.bootstrap, t) == end


def test_size_retention(broker, topic_name):
    b = broker(PROPS)
    limit = 40000
    t = helpers.create_topic(b.bootstrap, topic_name(),
                             config={"segment.bytes": str(SEGMENT), "retention.bytes": str(limit), "retention.ms": "-1"})
    end = fill(b.bootstrap, t, 60, 10, int(time.time() * 1000), b"sz")  # ~120 KB

    helpers.wait_until(lambda: helpers.earliest_offset(b.bootstrap, t) or None, timeout=30,
                       what="size retention to move the log start offset")
    helpers.wait_until(lambda: log_bytes(b, t) <= limit + SEGMENT + 4096, timeout=15,
                       what="the log to shrink to retention.bytes plus one segment")
    assert helpers.latest_offset(b.bootstrap, t) == end
    start = helpers.earliest_offset(b.bootstrap, t)
    assert b.segments(t, 0)[0] <= start
    # Kafka keeps the log at least retention.bytes minus one segment.
    kept = log_bytes(b, t)
    assert kept >= limit - SEGMENT, "deleted too much: %d bytes left" % kept
    got = helpers.consume(b.bootstrap, t, [0], end - start)
    assert [m["offset"] for m in got] == list(range(start, end))


def test_consumer_from_deleted_offset_is_out_of_range(broker, topic_name):
    b = broker(PROPS)
    t = helpers.create_topic(b.bootstrap, topic_name(), config={"segment.bytes": str(SEGMENT), "retention.ms": "60000"})
    fill(b.bootstrap, t, 30, 10, int(time.time() * 1000) - 3600 * 1000, b"old")
    end = fill(b.bootstrap, t, 1, 10, int(time.time() * 1000), b"new")
    start = settled_log_start(b.bootstrap, t, "time retention")
    # librdkafka with auto.offset.reset=earliest lands on the new log start.
    got = helpers.consume(b.bootstrap, t, [0], end - start, offset=0, auto_offset_reset="earliest")
    assert got[0]["offset"] == start


def test_clean_stop_with_deletions_still_pending(broker, topic_name):
    """Segments deleted by retention wait file.delete.delay.ms (Kafka's 60 s default) as
    *.deleted files; a clean stop inside that window removes them, and exits cleanly."""
    b = broker({"log.retention.check.interval.ms": "300"})
    t = helpers.create_topic(b.bootstrap, topic_name(),
                             config={"segment.bytes": str(SEGMENT), "retention.bytes": "20000", "retention.ms": "-1"})
    fill(b.bootstrap, t, 40, 10, int(time.time() * 1000), b"pd")
    d = b.partition_dir(t, 0)
    helpers.wait_until(lambda: any(n.endswith(".deleted") for n in os.listdir(d)), timeout=30,
                       what="retention to leave *.deleted files waiting for file.delete.delay.ms")
    rc = b.stop()
    assert rc == 0, "broker exited with %s; stderr:\n%s" % (rc, b.tail())
    assert "ERROR: AddressSanitizer" not in b.stderr
    assert not [n for n in os.listdir(d) if n.endswith(".deleted")], os.listdir(d)
