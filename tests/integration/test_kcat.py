"""kcat (librdkafka 2.0.2 underneath): metadata, produce with keys/headers, consume, codecs."""

import json
import shutil

import pytest

import helpers

pytestmark = pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat not installed")


def kcat(bootstrap, *args, input=None, timeout=60):
    return helpers.run(["kcat", "-b", bootstrap, "-X", "broker.address.family=v4"] + list(args),
                       input=input, timeout=timeout)


def kcat_consume(bootstrap, topic, count, *extra):
    out = kcat(bootstrap, "-C", "-t", topic, "-o", "beginning", "-c", str(count), "-e", "-J", *extra).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_kcat_metadata(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), partitions=3)
    md = json.loads(kcat(shared_broker.bootstrap, "-L", "-J").stdout)
    assert [b["id"] for b in md["brokers"]] == [1]
    assert md["controllerid"] == 1
    topic = [x for x in md["topics"] if x["topic"] == t]
    assert topic, "topic %s not listed" % t
    assert sorted(p["partition"] for p in topic[0]["partitions"]) == [0, 1, 2]
    assert all(p["leader"] == 1 for p in topic[0]["partitions"])


def test_kcat_produce_consume_keys_and_headers(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), partitions=2)
    n = 1000
    lines = "".join("key%d:value %d\n" % (i % 10, i) for i in range(n))
    kcat(shared_broker.bootstrap, "-P", "-t", t, "-K", ":", "-H", "origin=kcat", "-H", "n=1", input=lines)
    got = kcat_consume(shared_broker.bootstrap, t, n)
    assert len(got) == n
    for m in got:
        i = int(m["payload"].split()[1])
        assert m["key"] == "key%d" % (i % 10)
        assert m["headers"] == ["origin", "kcat", "n", "1"]
    # Same key, same partition; in order within each partition.
    part_of = {}
    for m in got:
        assert part_of.setdefault(m["key"], m["partition"]) == m["partition"]
    for p in (0, 1):
        offs = [m["offset"] for m in got if m["partition"] == p]
        seq = [int(m["payload"].split()[1]) for m in got if m["partition"] == p]
        assert offs == sorted(offs) and seq == sorted(seq)


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_kcat_codecs(shared_broker, topic_name, codec):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    lines = "".join("line %d %s\n" % (i, "z" * 100) for i in range(500))
    kcat(shared_broker.bootstrap, "-P", "-t", t, "-z", codec, input=lines)
    got = kcat_consume(shared_broker.bootstrap, t, 500)
    assert [m["payload"] for m in got] == ["line %d %s" % (i, "z" * 100) for i in range(500)]


def test_kcat_reads_what_librdkafka_python_wrote(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    ts = helpers.recent_ts()
    helpers.produce_all(shared_broker.bootstrap, t, [{"key": b"k", "value": b"v%d" % i, "timestamp": ts + i}
                                                      for i in range(50)])
    got = kcat_consume(shared_broker.bootstrap, t, 50)
    assert [(m["offset"], m["payload"], m["ts"]) for m in got] == \
        [(i, "v%d" % i, ts + i) for i in range(50)]
