"""Log compaction (cleanup.policy=compact): the cleaner keeps the latest value per key,
preserves offsets, keeps tombstones for delete.retention.ms, and survives kill -9."""

import os
import time

import helpers

PROPS = {"log.cleaner.backoff.ms": "200", "log.segment.delete.delay.ms": "0"}
PAD = b"." * 80
# One request in flight: several segment rolls in one loop turn currently leave a
# partial group-commit sync that is not continued (a partition.c issue, reported).



def clean_point(b, topic):
    """The topic's entry in cleaner-offset-checkpoint (Kafka's format), or -1."""
    try:
        with open(os.path.join(b.log_dir, "cleaner-offset-checkpoint")) as f:
            lines = f.read().split("\n")
    except OSError:
        return -1
    for line in lines[2:]:
        parts = line.split()
        if len(parts) == 3 and parts[0] == topic and parts[1] == "0":
            return int(parts[2])
    return -1


def produce_rounds(bootstrap, topic, nkeys, rounds, tombstones=(), tag="v"):
    """Each round writes every key once; in the last round the keys in
    `tombstones` get a null value. Returns [(offset, key, value)]."""
    msgs = []
    for r in range(rounds):
        for k in range(nkeys):
            key = b"key-%d" % k
            last = r == rounds - 1
            value = None if last and k in tombstones else b"%s-%d-%d-" % (tag.encode(), k, r) + PAD
            msgs.append({"key": key, "value": value})
    reports = helpers.produce_all(bootstrap, topic, msgs, batch_num_messages=8,
                                   max_in_flight_requests_per_connection=1)
    return [(rep["offset"], m["key"], m["value"]) for rep, m in zip(reports, msgs)]


def filler(bootstrap, topic, n, tag):
    """Records with distinct keys, so the interesting ones end up in sealed segments."""
    msgs = [{"key": b"%s-%d" % (tag.encode(), i), "value": PAD} for i in range(n)]
    reports = helpers.produce_all(bootstrap, topic, msgs, batch_num_messages=8,
                                   max_in_flight_requests_per_connection=1)
    return [(rep["offset"], m["key"], m["value"]) for rep, m in zip(reports, msgs)]


def expected(written, drop_tombstones=False):
    """Latest record per key, in offset order."""
    latest = {}
    for off, key, value in written:
        latest[key] = (off, key, value)
    out = sorted(latest.values())
    if drop_tombstones:
        out = [r for r in out if r[2] is not None]
    return out


def log_now(b, topic):
    recs = helpers.fetch_all_raw(b.bootstrap, topic)
    offs = [r["offset"] for r in recs]
    assert offs == sorted(set(offs)), "offsets must be strictly increasing (no duplicates)"
    return [(r["offset"], r["key"], r["value"]) for r in recs]


def test_compaction_keeps_latest_value_per_key(broker, topic_name):
    b = broker(PROPS)
    t = helpers.create_topic(b.bootstrap, topic_name(), config={
        "cleanup.policy": "compact", "segment.bytes": "4096", "min.cleanable.dirty.ratio": "0.01"})
    written = produce_rounds(b.bootstrap, t, nkeys=40, rounds=10, tombstones={0, 1, 2})
    last_interesting = written[-1][0]
    written += filler(b.bootstrap, t, 200, "fill")
    # Several segments exist (the cleaner may already be merging some of them).
    assert len(b.segments(t, 0)) > 3

    helpers.wait_until(lambda: clean_point(b, t) > last_interesting, timeout=60, interval=0.2,
                       what="the cleaner to pass offset %d" % last_interesting)
    want = expected(written)
    got = log_now(b, t)
    assert got == want, "after cleaning: %d records, expected %d" % (len(got), len(want))
    # The three tombstones stay (delete.retention.ms is a day).
    assert sum(1 for r in got if r[2] is None) == 3

    # A real client reads exactly the same from the beginning.
    msgs = helpers.consume(b.bootstrap, t, [0], len(want))
    assert [(m["offset"], m["key"], m["value"]) for m in msgs] == want
    assert helpers.latest_offset(b.bootstrap, t) == written[-1][0] + 1
    assert helpers.earliest_offset(b.bootstrap, t) == 0

    # The state survives a clean restart.
    b.restart()
    assert log_now(b, t) == want


def test_tombstones_removed_after_delete_retention(broker, topic_name):
    b = broker(PROPS)
    t = helpers.create_topic(b.bootstrap, topic_name(), config={
        "cleanup.policy": "compact", "segment.bytes": "4096", "min.cleanable.dirty.ratio": "0.01",
        "delete.retention.ms": "1000"})
    written = produce_rounds(b.bootstrap, t, nkeys=20, rounds=5, tombstones={3, 4})
    last_interesting = written[-1][0]
    written += filler(b.bootstrap, t, 150, "fill")
    helpers.wait_until(lambda: clean_point(b, t) > last_interesting, timeout=60, interval=0.2,
                       what="the first cleaning")
    # First cleaning: the tombstones get their delete horizon and stay...
    # ...then go once it has passed (a later pass).
    want = expected(written, drop_tombstones=True)
    helpers.wait_until(lambda: log_now(b, t) == want, timeout=60, interval=0.3,
                       what="tombstones to be removed after delete.retention.ms")
    assert helpers.latest_offset(b.bootstrap, t) == written[-1][0] + 1


def test_compaction_survives_kill9(broker, topic_name):
    b = broker(PROPS)
    t = helpers.create_topic(b.bootstrap, topic_name(), config={
        "cleanup.policy": "compact,delete", "segment.bytes": "65536", "min.cleanable.dirty.ratio": "0.01",
        # Relaxed flush: after an unclean restart many recovered segments need
        # syncing, which trips the partial-sync issue noted at the top.
        "flush.ms": "300"})
    d = b.partition_dir(t, 0)
    written = []
    caught = 0
    for attempt in range(4):
        written += produce_rounds(b.bootstrap, t, nkeys=300, rounds=8, tag="a%d" % attempt)
        written += filler(b.bootstrap, t, 700, "f%d" % attempt)
        # Kill the broker as soon as a cleaning is seen in progress (bounded wait).
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if any(n.endswith(".cleaned") or n.endswith(".swap") for n in os.listdir(d)):
                caught += 1
                break
            time.sleep(0.002)
        b.kill9()
        b.start()
        got = log_now(b, t)
        have = {r[0]: r for r in got}
        # Nothing lost: each key's latest record is there, unchanged, at its offset.
        for rec in expected(written):
            assert have.get(rec[0]) == rec, "lost record at offset %d after kill -9" % rec[0]
        # Whatever else is there is a record that was written, at its offset.
        by_off = {r[0]: r for r in written}
        assert all(by_off.get(o) == r for o, r in have.items())
        assert helpers.latest_offset(b.bootstrap, t) == written[-1][0] + 1
    print("kill -9 during a cleaning: %d of 4 attempts" % caught)

    # After a last cleaning everything is compacted to the latest values.
    last = written[-1][0]
    written += filler(b.bootstrap, t, 700, "tail")
    helpers.wait_until(lambda: clean_point(b, t) > last, timeout=60, interval=0.2,
                       what="the cleaner to finish after the restarts")
    got = log_now(b, t)
    assert [r for r in got if r[0] <= last] == [r for r in expected(written) if r[0] <= last]
    assert not [n for n in os.listdir(d) if n.endswith(".cleaned") or n.endswith(".swap")]
