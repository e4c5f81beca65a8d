"""All four codecs round trip, and the stored batches really are compressed."""

import pytest

import helpers
import kwire

CODECS = {"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def compressible(i):
    return b"message %06d " % i + b"abcdefghij" * 20


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_codec_round_trip_librdkafka(shared_broker, topic_name, codec):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    n = 2000
    msgs = [{"key": b"k%d" % i, "value": compressible(i), "headers": [("codec", codec.encode())],
             "timestamp": helpers.recent_ts() + i} for i in range(n)]
    helpers.produce_all(shared_broker.bootstrap, t, msgs, compression_type=codec, linger_ms=50)

    # The log holds the producer's compressed batches (librdkafka before 2.11
    # silently stops compressing if the broker's Produce range lacks v0).
    with kwire.Conn(shared_broker.bootstrap) as c:
        part = kwire.fetch(c, t, 0, 0, max_bytes=8 << 20)
    assert part["ErrorCode"] == 0
    batches = part["batches"]
    assert batches, "no batches fetched"
    assert all(b["crc_ok"] for b in batches), "stored batch with a bad CRC"
    hint = ""
    if codec == "lz4":
        hint = " (librdkafka 2.0.2 only uses lz4 if ApiVersions advertises FindCoordinator v0: quirk 1 of client-api-versions.md)"
    assert {b["codec"] for b in batches} == {CODECS[codec]}, \
        "expected every batch compressed with %s, got codecs %s%s" % (
            codec, sorted({b["codec"] for b in batches}), hint)
    stored = sum(b["length"] for b in batches)
    raw = sum(len(m["value"]) for m in msgs[:sum(b["record_count"] for b in batches)])
    assert stored < raw / 2, "batches not smaller than their payload (%d vs %d bytes)" % (stored, raw)

    got = helpers.consume(shared_broker.bootstrap, t, [0], n)
    assert [m["offset"] for m in got] == list(range(n))
    for m, want in zip(got, msgs):
        assert (m["key"], m["value"], m["headers"], m["timestamp"]) == \
            (want["key"], want["value"], want["headers"], want["timestamp"])


def test_gzip_from_kafka_python(shared_broker, topic_name):
    kafka = pytest.importorskip("kafka")
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    producer = kafka.KafkaProducer(bootstrap_servers=shared_broker.bootstrap, acks="all", linger_ms=20,
                                   compression_type="gzip", request_timeout_ms=15000)
    for i in range(300):
        producer.send(t, key=b"k%d" % i, value=compressible(i), headers=[("n", b"%d" % i)])
    producer.flush(30)
    producer.close(10)
    with kwire.Conn(shared_broker.bootstrap) as c:
        batches = kwire.fetch(c, t, 0, 0, max_bytes=8 << 20)["batches"]
    assert batches and {b["codec"] for b in batches} == {1}
    got = helpers.consume(shared_broker.bootstrap, t, [0], 300)
    assert [(m["key"], m["value"], m["headers"]) for m in got] == \
        [(b"k%d" % i, compressible(i), [("n", b"%d" % i)]) for i in range(300)]


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_mixed_codecs_in_one_partition(shared_broker, topic_name, codec):
    # Uncompressed and compressed batches interleave in one log; a consumer
    # starting in the middle of a compressed batch still gets exact offsets.
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    helpers.produce_all(shared_broker.bootstrap, t, [{"value": b"plain-%d" % i} for i in range(50)], linger_ms=0)
    helpers.produce_all(shared_broker.bootstrap, t, [{"value": compressible(i)} for i in range(50)],
                        compression_type=codec, linger_ms=50)
    helpers.produce_all(shared_broker.bootstrap, t, [{"value": b"plain-%d" % i} for i in range(50, 100)], linger_ms=0)
    got = helpers.consume(shared_broker.bootstrap, t, [0], 125, offset=25)
    assert [m["offset"] for m in got] == list(range(25, 150))
    assert got[25]["value"] == compressible(0) and got[-1]["value"] == b"plain-99"
