"""Produce and consume round trips: librdkafka, kafka-python, raw versions, acks=0, pipelining."""

import time

import pytest

import helpers
import kwire

N = 10000


def keyed_messages(n, base_ts):
    return [{"key": b"key-%03d" % (i % 97), "value": b"value-%06d-" % i + b"x" * (i % 50),
             "headers": [("seq", str(i).encode()), ("kind", b"test"), ("empty", b"")],
             "timestamp": base_ts + i} for i in range(n)]


def test_10k_keyed_messages_round_trip(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), partitions=4)
    base_ts = int(time.time() * 1000) - 60000
    msgs = keyed_messages(N, base_ts)
    reports = helpers.produce_all(shared_broker.bootstrap, t, msgs, linger_ms=20)

    # Same key, same partition; offsets per partition are 0..n-1, in produce order.
    part_of_key = {}
    for m, r in zip(msgs, reports):
        assert part_of_key.setdefault(m["key"], r["partition"]) == r["partition"]
    by_part = {}
    for i, r in enumerate(reports):
        by_part.setdefault(r["partition"], []).append((r["offset"], i))
    for p, offs in by_part.items():
        assert [o for o, _ in offs] == list(range(len(offs))), "partition %d offsets not dense/in order" % p

    got = helpers.consume(shared_broker.bootstrap, t, range(4), N)
    index = {(r["partition"], r["offset"]): i for i, r in enumerate(reports)}
    for m in got:
        i = index.get((m["partition"], m["offset"]))
        assert i is not None, "consumed unknown message at %d:%d" % (m["partition"], m["offset"])
        want = msgs[i]
        assert (m["key"], m["value"], m["headers"], m["timestamp"]) == \
            (want["key"], want["value"], want["headers"], want["timestamp"]), "message %d differs" % i
    # In order per partition: consumed sequence numbers increase within each partition.
    for p in range(4):
        seqs = [int(dict(m["headers"])["seq"]) for m in got if m["partition"] == p]
        assert seqs == sorted(seqs), "partition %d out of order" % p
    for p, offs in by_part.items():
        assert helpers.latest_offset(shared_broker.bootstrap, t, p) == len(offs)


def test_null_keys_values_and_empty_messages(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    msgs = [{"value": None, "key": b"tombstone"}, {"value": b"", "key": None}, {"value": b"v", "key": b""},
            {"value": b"\x00\xff" * 1000, "key": b"binary"}]
    helpers.produce_all(shared_broker.bootstrap, t, msgs, linger_ms=0)
    got = helpers.consume(shared_broker.bootstrap, t, [0], len(msgs))
    assert [(m["key"], m["value"]) for m in got] == [(m["key"], m["value"]) for m in msgs]


def test_kafka_python_round_trip_and_cross_client(shared_broker, topic_name):
    kafka = pytest.importorskip("kafka")
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), partitions=2)
    ts = helpers.recent_ts()
    producer = kafka.KafkaProducer(bootstrap_servers=shared_broker.bootstrap, acks="all", linger_ms=5,
                                   request_timeout_ms=15000)
    n = 500
    futures = [producer.send(t, key=b"k%d" % (i % 7), value=b"kp-%d" % i, headers=[("i", str(i).encode())],
                             partition=i % 2, timestamp_ms=ts + i) for i in range(n)]
    producer.flush(30)
    metas = [f.get(timeout=30) for f in futures]
    producer.close(10)
    assert [m.offset for m in metas if m.partition == 0] == list(range(n // 2))

    # kafka-python consumer, assign() only (no group).
    consumer = kafka.KafkaConsumer(bootstrap_servers=shared_broker.bootstrap, group_id=None,
                                   enable_auto_commit=False, auto_offset_reset="earliest",
                                   consumer_timeout_ms=3000)
    tps = [kafka.TopicPartition(t, 0), kafka.TopicPartition(t, 1)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    got = []
    deadline = time.monotonic() + 60
    while len(got) < n and time.monotonic() < deadline:
        for recs in consumer.poll(timeout_ms=500, max_records=500).values():
            got.extend(recs)
    consumer.close()
    assert len(got) == n, "kafka-python consumed %d of %d" % (len(got), n)
    for r in got:
        i = int(r.value[3:])
        assert (r.key, r.partition, r.headers, r.timestamp) == \
            (b"k%d" % (i % 7), i % 2, [("i", str(i).encode())], ts + i)

    # The same data read through librdkafka.
    seen = helpers.consume(shared_broker.bootstrap, t, [0, 1], n)
    assert sorted(m["value"] for m in seen) == sorted(b"kp-%d" % i for i in range(n))


@pytest.mark.parametrize("version", [3, 5, 7, 8, 9])
def test_raw_produce_versions_and_fetch_versions(shared_broker, topic_name, version):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    ts = helpers.recent_ts()
    recs = [(b"k%d" % i, b"v%d" % i, [("h", b"%d" % i)], ts + i) for i in range(5)]
    with kwire.Conn(shared_broker.bootstrap) as c:
        for n in range(3):
            p = kwire.produce(c, t, 0, kwire.record_batch(recs), version=version, acks=-1)
            assert p["ErrorCode"] == 0, "Produce v%d: error %d" % (version, p["ErrorCode"])
            assert p["BaseOffset"] == 5 * n
        for fv in (4, 7, 11, 12):
            part = kwire.fetch(c, t, 0, 0, version=fv)
            assert part["ErrorCode"] == 0 and part["HighWatermark"] == 15, "Fetch v%d" % fv
            assert part["batches"] and all(b["crc_ok"] and b["magic"] == 2 for b in part["batches"]), "Fetch v%d" % fv
    for fv in (4, 7, 11, 12):
        got = helpers.fetch_all_raw(shared_broker.bootstrap, t, version=fv)
        assert [(r["offset"], r["key"], r["value"], r["headers"], r["timestamp"]) for r in got] == \
            [(5 * n + i, k, v, h, ts) for n in range(3) for i, (k, v, h, ts) in enumerate(recs)], "Fetch v%d" % fv


def test_fetch_out_of_range_offset(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    with kwire.Conn(shared_broker.bootstrap) as c:
        kwire.produce(c, t, 0, kwire.record_batch([(None, b"a")]))
        assert kwire.fetch(c, t, 0, 1)["ErrorCode"] == 0, "fetch at the log end is not an error"
        assert kwire.fetch(c, t, 0, 5)["ErrorCode"] == kwire.OFFSET_OUT_OF_RANGE
        assert kwire.fetch(c, t, 0, -7)["ErrorCode"] == kwire.OFFSET_OUT_OF_RANGE


def test_consume_from_the_middle(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    helpers.produce_all(shared_broker.bootstrap, t, [{"value": b"%d" % i} for i in range(1000)], linger_ms=50)
    got = helpers.consume(shared_broker.bootstrap, t, [0], 250, offset=750)
    assert [m["offset"] for m in got] == list(range(750, 1000))
    assert [m["value"] for m in got] == [b"%d" % i for i in range(750, 1000)]


def test_acks_zero_gets_no_response(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    with kwire.Conn(shared_broker.bootstrap) as c:
        c.send("Produce", 7, kwire.produce_body(t, 0, kwire.record_batch([(b"k", b"fire-and-forget")]), acks=0),
               expect_response=False)
        corr = c.send("Metadata", 9, {"Topics": None})
        got, _ = c.recv()  # would fail on an unexpected correlation id
        assert got == corr, "the first response must be the Metadata one: acks=0 gets none"
        assert c.is_closed(timeout=0.3) is False
    helpers.wait_until(lambda: helpers.latest_offset(shared_broker.bootstrap, t) == 1, timeout=10,
                       what="the acks=0 record to be appended")
    assert [r["value"] for r in helpers.fetch_all_raw(shared_broker.bootstrap, t)] == [b"fire-and-forget"]


def test_pipelined_responses_in_request_order(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    kinds = []
    with kwire.Conn(shared_broker.bootstrap, timeout=30) as c:
        frames = []
        for i in range(100):
            kind = ["ApiVersions", "Metadata", "Produce", "ListOffsets", "Fetch"][i % 5]
            corr = 1000 + i
            if kind == "ApiVersions":
                body, v = {}, 2
            elif kind == "Metadata":
                body, v = {"Topics": [{"Name": t}]}, 5
            elif kind == "Produce":
                body, v = kwire.produce_body(t, 0, kwire.record_batch([(None, b"p%d" % i)]), acks=1), 7
            elif kind == "ListOffsets":
                body, v = {"ReplicaId": -1, "Topics": [{"Name": t, "Partitions": [
                    {"PartitionIndex": 0, "Timestamp": -1}]}]}, 5
            else:
                body, v = kwire.fetch_body(t, 0, 0, max_wait_ms=0), 11
            frames.append(kwire.encode_request(kind, v, body, corr))
            c.pending[corr] = (kind, v)
            kinds.append((corr, kind))
        c.send_raw(b"".join(frames))  # all 100 in one write
        order = [c.recv()[0] for _ in kinds]
    assert order == [corr for corr, _ in kinds], "responses out of order"
    assert helpers.latest_offset(shared_broker.bootstrap, t) == 20


def test_pipelined_big_produces_answer_their_own_topics(shared_broker, topic_name):
    """Big produce requests give their frame back while they wait for the sync;
    each response must still name its own topic (the names are copied first)."""
    names = [topic_name() for _ in range(4)]
    width = max(len(n) for n in names)
    names = [n + "x" * (width - len(n)) for n in names]  # same length: same offsets in a frame
    for n in names:
        helpers.create_topic(shared_broker.bootstrap, n)
    with kwire.Conn(shared_broker.bootstrap, timeout=30) as c:
        frames, expect = [], []
        for round_ in range(3):
            for i, n in enumerate(names):
                value = bytes([65 + i]) * (300 * 1024)  # over the broker's small-frame size
                body = kwire.produce_body(n, 0, kwire.record_batch([(b"k%d" % round_, value)]))
                corr = 100 + round_ * 10 + i
                frames.append(kwire.encode_request("Produce", 7, body, corr))
                c.pending[corr] = ("Produce", 7)
                expect.append((corr, n, round_))
        c.send_raw(b"".join(frames))
        for corr, n, round_ in expect:
            got, resp = c.recv()
            assert got == corr
            topic = resp["Responses"][0]
            assert topic["Name"] == n, "response names %r, expected %r" % (topic["Name"], n)
            part = topic["PartitionResponses"][0]
            assert part["ErrorCode"] == 0 and part["BaseOffset"] == round_, part
        for i, n in enumerate(names):
            part = kwire.fetch(c, n, 0, 0, max_bytes=4 << 20)
            recs = [r for b in part["batches"] for r in b["records"]]
            assert [r["value"] for r in recs] == [bytes([65 + i]) * (300 * 1024)] * 3
