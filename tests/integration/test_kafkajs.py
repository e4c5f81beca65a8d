"""kafkajs 2.2.4 (tests/js): admin, producer (plain and gzip), offsets.

Its consumer needs consumer groups, which the broker does not have yet, so
what kafkajs writes is read back with librdkafka and raw Fetch.
"""

import os
import shutil

import pytest

import helpers
import kwire

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="node not installed"),
    pytest.mark.skipif(not os.path.isdir(os.path.join(helpers.JS_DIR, "node_modules", "kafkajs")),
                       reason="kafkajs not installed (run scripts/deps.sh)"),
]


def test_kafkajs_admin(shared_broker, topic_name):
    t = topic_name()
    out = helpers.run_js("admin.js", shared_broker.bootstrap, t)
    assert out["created"] is True
    assert out["createdAgain"] is False, "an existing topic must be reported as TOPIC_ALREADY_EXISTS"
    assert out["validateOnly"] is True and out["listedValidateOnly"] is False, "validate_only created the topic"
    assert "INVALID_TOPIC_EXCEPTION" in out["invalidNameErrors"], out["invalidNameErrors"]
    assert out["metadata"] == [{"name": t, "partitions": [
        {"partition": p, "leader": 1, "replicas": [1], "isr": [1]} for p in range(3)]}]
    assert out["listedTopic"] is True
    assert (out["controller"], out["brokers"]) == (1, [1])
    assert out["deleted"] is True
    assert "UNKNOWN_TOPIC_OR_PARTITION" in out["deleteUnknownErrors"], out["deleteUnknownErrors"]


@pytest.mark.parametrize("compression,codec", [("none", 0), ("gzip", 1)])
def test_kafkajs_produce_round_trip(shared_broker, topic_name, compression, codec):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), partitions=3)
    n, base_ts = 1000, helpers.recent_ts()
    out = helpers.run_js("produce.js", shared_broker.bootstrap, t, n, compression, base_ts)
    assert all(a["errorCode"] == 0 for a in out["acks"]), out["acks"][:5]

    got = helpers.consume(shared_broker.bootstrap, t, range(3), n)
    part_of = {}
    for m in got:
        i = int(m["value"][3:])
        assert m["key"] == b"key-%d" % (i % 13)
        assert m["headers"] == [("seq", b"%d" % i), ("lib", b"kafkajs")]
        assert m["timestamp"] == base_ts + i
        assert part_of.setdefault(m["key"], m["partition"]) == m["partition"], "key moved partitions"
    for p in range(3):
        seq = [int(m["value"][3:]) for m in got if m["partition"] == p]
        assert seq == sorted(seq), "partition %d out of order" % p
    with kwire.Conn(shared_broker.bootstrap) as c:
        codecs = {b["codec"] for p in range(3) for b in kwire.fetch(c, t, p, 0)["batches"]}
    assert codecs == {codec}


def test_kafkajs_offsets(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), partitions=2)
    base_ts = helpers.recent_ts()
    msgs = [{"value": b"m%d" % i, "partition": i % 2, "timestamp": base_ts + 1000 * i} for i in range(20)]
    helpers.produce_all(shared_broker.bootstrap, t, msgs)
    out = helpers.run_js("offsets.js", shared_broker.bootstrap, t, base_ts + 10500)
    assert out["offsets"] == [{"partition": 0, "low": "0", "high": "10"}, {"partition": 1, "low": "0", "high": "10"}]
    # Message 11 (partition 1, offset 5) is the first at or after the timestamp; in
    # partition 0 it is message 12 (offset 6).
    assert out["byTimestamp"] == [{"partition": 0, "offset": "6"}, {"partition": 1, "offset": "5"}]
