"""ListOffsets: earliest, latest, by timestamp, max timestamp; raw and through clients."""

import pytest
from confluent_kafka import Consumer, TopicPartition

import helpers
import kwire

T0 = helpers.recent_ts(hours_ago=2)  # recent enough for the default retention
# Three batches of five records; the largest timestamp sits inside the middle batch
# (offset 7), so "max timestamp" must find the record, not the last batch.
BATCHES = [
    [T0 + 0, T0 + 1000, T0 + 2000, T0 + 3000, T0 + 4000],
    [T0 + 5000, T0 + 6000, T0 + 900000, T0 + 8000, T0 + 9000],
    [T0 + 10000, T0 + 11000, T0 + 12000, T0 + 13000, T0 + 14000],
]
MAX_OFFSET, MAX_TS = 7, T0 + 900000


@pytest.fixture
def timed_topic(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), partitions=2)
    with kwire.Conn(shared_broker.bootstrap) as c:
        for n, stamps in enumerate(BATCHES):
            recs = [(b"k", b"v%d" % (5 * n + i), [], ts) for i, ts in enumerate(stamps)]
            assert kwire.produce(c, t, 0, kwire.record_batch(recs))["ErrorCode"] == 0
    return t


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5, 6, 7])
def test_earliest_and_latest(shared_broker, timed_topic, version):
    with kwire.Conn(shared_broker.bootstrap) as c:
        e = kwire.list_offset(c, timed_topic, 0, kwire.EARLIEST, version=version)
        l = kwire.list_offset(c, timed_topic, 0, kwire.LATEST, version=version)
        empty = kwire.list_offset(c, timed_topic, 1, kwire.LATEST, version=version)
    assert (e["ErrorCode"], e["Offset"]) == (0, 0)
    assert (l["ErrorCode"], l["Offset"]) == (0, 15)
    assert (empty["ErrorCode"], empty["Offset"]) == (0, 0), "empty partition"


@pytest.mark.parametrize("ts,offset,found_ts", [
    (0, 0, T0),                       # before everything: the first record
    (T0, 0, T0),
    (T0 + 2500, 3, T0 + 3000),        # between records: the next one
    (T0 + 5000, 5, T0 + 5000),        # first record of a batch
    (T0 + 8500, 7, T0 + 900000),      # first record whose timestamp is >= target, in offset order
    (T0 + 10000, 7, T0 + 900000),
    (T0 + 900000, 7, T0 + 900000),
])
def test_by_timestamp(shared_broker, timed_topic, ts, offset, found_ts):
    with kwire.Conn(shared_broker.bootstrap) as c:
        for version in (1, 4, 7):
            p = kwire.list_offset(c, timed_topic, 0, ts, version=version)
            assert (p["ErrorCode"], p["Offset"], p["Timestamp"]) == (0, offset, found_ts), \
                "v%d ts=%d: %r" % (version, ts, p)


def test_by_timestamp_after_everything(shared_broker, timed_topic):
    with kwire.Conn(shared_broker.bootstrap) as c:
        p = kwire.list_offset(c, timed_topic, 0, MAX_TS + 1)
    assert (p["ErrorCode"], p["Offset"], p["Timestamp"]) == (0, -1, -1)


def test_max_timestamp(shared_broker, timed_topic):
    with kwire.Conn(shared_broker.bootstrap) as c:
        p = kwire.list_offset(c, timed_topic, 0, kwire.MAX_TIMESTAMP, version=7)
    assert (p["ErrorCode"], p["Offset"], p["Timestamp"]) == (0, MAX_OFFSET, MAX_TS)


def test_unknown_partition_and_topic(shared_broker, timed_topic):
    with kwire.Conn(shared_broker.bootstrap) as c:
        assert kwire.list_offset(c, timed_topic, 9, kwire.LATEST)["ErrorCode"] == kwire.UNKNOWN_TOPIC_OR_PARTITION
        assert kwire.list_offset(c, "no-such-topic-lo", 0, kwire.LATEST)["ErrorCode"] == \
            kwire.UNKNOWN_TOPIC_OR_PARTITION


def test_librdkafka_offsets(shared_broker, timed_topic):
    c = Consumer({"bootstrap.servers": shared_broker.bootstrap, "group.id": "fjord-test-unused",
                  "enable.auto.commit": False})
    try:
        assert c.get_watermark_offsets(TopicPartition(timed_topic, 0), timeout=10) == (0, 15)
        res = c.offsets_for_times([TopicPartition(timed_topic, 0, T0 + 2500),
                                   TopicPartition(timed_topic, 1, T0)], timeout=10)
        assert [(r.partition, r.offset, r.error) for r in res] == [(0, 3, None), (1, -1, None)]
    finally:
        c.close()


def test_kafka_python_offsets(shared_broker, timed_topic):
    kafka = pytest.importorskip("kafka")
    c = kafka.KafkaConsumer(bootstrap_servers=shared_broker.bootstrap, group_id=None, request_timeout_ms=10000)
    try:
        tp = kafka.TopicPartition(timed_topic, 0)
        assert c.beginning_offsets([tp]) == {tp: 0}
        assert c.end_offsets([tp]) == {tp: 15}
        found = c.offsets_for_times({tp: T0 + 5000})[tp]
        assert (found.offset, found.timestamp) == (5, T0 + 5000)
    finally:
        c.close()


def test_kcat_query_by_timestamp(shared_broker, timed_topic):
    out = helpers.run(["kcat", "-b", shared_broker.bootstrap, "-Q", "-t", "%s:0:%d" % (timed_topic, T0 + 2500)],
                      timeout=30).stdout
    assert "offset 3" in out, out
