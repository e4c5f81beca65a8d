"""Fetch long poll: a parked fetch wakes up with data produced while it waits.

No test asserts a short duration; bounds are generous "did not hang" limits.
"""

import threading
import time

import helpers
import kwire


def produce_later(bootstrap, topic, value, delay):
    def run():
        time.sleep(delay)
        with kwire.Conn(bootstrap) as c:
            p = kwire.produce(c, topic, 0, kwire.record_batch([(b"late", value)]), acks=1)
            assert p["ErrorCode"] == 0
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def values(part):
    return [r["value"] for b in part["batches"] if b["records"] for r in b["records"]]


def test_long_poll_returns_data_produced_while_parked(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    with kwire.Conn(shared_broker.bootstrap, timeout=30) as c:
        corr = c.send("Fetch", 11, kwire.fetch_body(t, 0, 0, max_wait_ms=5000, min_bytes=1))
        th = produce_later(shared_broker.bootstrap, t, b"while-parked", 0.5)
        got, resp = c.recv(timeout=30)
        th.join(10)
    part = resp["Responses"][0]["Partitions"][0]
    part["batches"] = kwire.parse_batches(part["Records"])
    assert got == corr and part["ErrorCode"] == 0
    assert values(part) == [b"while-parked"], "the parked fetch must return the data produced meanwhile"
    assert part["HighWatermark"] == 1


def test_long_poll_with_long_max_wait_does_not_hang(shared_broker, topic_name):
    # max_wait is a minute; the data arrives after half a second; 30 s is a
    # generous bound that only a fetch ignoring new data would exceed.
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    with kwire.Conn(shared_broker.bootstrap) as c:
        c.send("Fetch", 12, kwire.fetch_body(t, 0, 0, max_wait_ms=60000, min_bytes=1))
        th = produce_later(shared_broker.bootstrap, t, b"wake-up", 0.5)
        _, resp = c.recv(timeout=30)
        th.join(10)
    part = resp["Responses"][0]["Partitions"][0]
    assert part["ErrorCode"] == 0
    assert [r["value"] for b in kwire.parse_batches(part["Records"]) for r in (b["records"] or [])] == [b"wake-up"]


def test_long_poll_expires_empty(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    helpers.produce_all(shared_broker.bootstrap, t, [{"value": b"one"}])
    with kwire.Conn(shared_broker.bootstrap) as c:
        part = kwire.fetch(c, t, 0, 1, max_wait_ms=300, min_bytes=1, version=11)  # recv bound: 10 s
    assert part["ErrorCode"] == 0 and part["HighWatermark"] == 1
    assert values(part) == []


def test_min_bytes_zero_returns_at_once(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    with kwire.Conn(shared_broker.bootstrap) as c:
        part = kwire.fetch(c, t, 0, 0, max_wait_ms=60000, min_bytes=0)  # recv bound: 10 s
    assert part["ErrorCode"] == 0 and values(part) == []


def test_parked_fetch_keeps_response_order(shared_broker, topic_name):
    """A request pipelined behind a parked fetch is answered after it, never before."""
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    with kwire.Conn(shared_broker.bootstrap, timeout=30) as c:
        f = c.send("Fetch", 11, kwire.fetch_body(t, 0, 0, max_wait_ms=2000, min_bytes=1))
        a = c.send("ApiVersions", 2, {})
        m = c.send("Metadata", 9, {"Topics": [{"Name": t}]})
        th = produce_later(shared_broker.bootstrap, t, b"x", 0.3)
        order = [c.recv(timeout=30)[0] for _ in range(3)]
        th.join(10)
    assert order == [f, a, m]


def test_many_parked_fetches_all_wake(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    conns = [kwire.Conn(shared_broker.bootstrap, timeout=30) for _ in range(8)]
    try:
        for c in conns:
            c.send("Fetch", 11, kwire.fetch_body(t, 0, 0, max_wait_ms=5000, min_bytes=1))
        th = produce_later(shared_broker.bootstrap, t, b"fan-out", 0.5)
        for c in conns:
            _, resp = c.recv(timeout=30)
            part = resp["Responses"][0]["Partitions"][0]
            assert [r["value"] for b in kwire.parse_batches(part["Records"]) for r in b["records"]] == [b"fan-out"]
        th.join(10)
    finally:
        for c in conns:
            c.close()


def test_librdkafka_consumer_sees_new_data(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    th = produce_later(shared_broker.bootstrap, t, b"later", 1.0)
    got = helpers.consume(shared_broker.bootstrap, t, [0], 1, timeout=30, fetch_wait_max_ms=5000)
    th.join(10)
    assert got[0]["value"] == b"later"


def test_delete_topic_under_parked_fetch(shared_broker, topic_name):
    # A fetch parked on every partition of a topic; the topic is deleted from
    # another connection. The fetch must answer (with an error for the gone
    # partitions) instead of waiting out max_wait, and the broker keeps serving.
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), partitions=3)
    body = kwire.fetch_body(t, 0, 0, max_wait_ms=60000, min_bytes=1)
    body["Topics"][0]["Partitions"] = [{"Partition": p, "FetchOffset": 0, "PartitionMaxBytes": 1 << 20}
                                       for p in range(3)]
    with kwire.Conn(shared_broker.bootstrap, timeout=30) as c:
        c.send("Fetch", 11, body)
        time.sleep(0.3)
        with kwire.Conn(shared_broker.bootstrap) as admin:
            assert kwire.delete_topics(admin, [t]) == {t: kwire.NONE}
        _, resp = c.recv(timeout=30)
    errors = sorted(p["ErrorCode"] for p in resp["Responses"][0]["Partitions"])
    assert errors == [kwire.UNKNOWN_TOPIC_OR_PARTITION] * 3, errors
    t2 = helpers.create_topic(shared_broker.bootstrap, topic_name())
    with kwire.Conn(shared_broker.bootstrap) as c:
        assert kwire.produce(c, t2, 0, kwire.record_batch([(b"k", b"after")]))["ErrorCode"] == 0
