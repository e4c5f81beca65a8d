"""ApiVersions and Metadata, raw and through librdkafka and kafka-python."""

import struct

import pytest
from confluent_kafka.admin import AdminClient

import helpers
import kwire

# The ranges the broker must advertise now (client-api-versions.md, lead's contract).
REQUIRED = {"Produce": (0, 9), "Fetch": (4, 12), "ListOffsets": (1, 7), "Metadata": (0, 12),
            "ApiVersions": (0, 4), "CreateTopics": (0, 5), "DeleteTopics": (0, 4)}


def test_api_versions_advertises_required_ranges(shared_broker):
    with kwire.Conn(shared_broker.bootstrap) as c:
        resp = c.request("ApiVersions", 3, {"ClientSoftwareName": "fjord-tests", "ClientSoftwareVersion": "1.0"})
    assert resp["ErrorCode"] == 0
    ranges = {k["ApiKey"]: (k["MinVersion"], k["MaxVersion"]) for k in resp["ApiKeys"]}
    for api, (lo, hi) in REQUIRED.items():
        key = kwire.API_KEYS[api]
        assert key in ranges, "%s (%d) not advertised" % (api, key)
        assert ranges[key][0] <= lo and ranges[key][1] >= hi, \
            "%s advertised %s, need at least %d-%d" % (api, ranges[key], lo, hi)
    # librdkafka < 2.11 only compresses with gzip/snappy/lz4 if Produce v0 is inside the range.
    assert ranges[0][0] == 0, "Produce must be advertised from v0 (librdkafka feature detection)"


@pytest.mark.parametrize("version", [0, 1, 2, 3, 4])
def test_api_versions_every_version(shared_broker, version):
    body = {"ClientSoftwareName": "fjord-tests", "ClientSoftwareVersion": "1.0"}
    with kwire.Conn(shared_broker.bootstrap) as c:
        resp = c.request("ApiVersions", version, body)
    assert resp["ErrorCode"] == 0
    assert any(k["ApiKey"] == 18 for k in resp["ApiKeys"])


def test_api_versions_too_new_gets_v0_body_with_error_35(shared_broker):
    # A client guessing a future flexible version: header v2, compact body.
    payload = kwire.request_header(18, 99, 42, "future-client", flexible=True) + b"\x02x\x021\x00"
    with kwire.Conn(shared_broker.bootstrap) as c:
        c.send_raw(struct.pack(">i", len(payload)) + payload)
        frame = c.recv_frame()
    corr, body = struct.unpack_from(">i", frame)[0], frame[4:]
    assert corr == 42
    resp = kwire.decode_body("ApiVersions", 0, body)  # KIP-511: v0-shaped body, v0 header
    assert resp["ErrorCode"] == kwire.UNSUPPORTED_VERSION
    av = [k for k in resp["ApiKeys"] if k["ApiKey"] == 18]
    assert av and av[0]["MaxVersion"] >= 3, "the fallback answer must list ApiVersions' own range"


@pytest.mark.parametrize("version", [0, 1, 4, 7, 9, 12])
def test_metadata_reports_single_node_controller(shared_broker, version):
    with kwire.Conn(shared_broker.bootstrap) as c:
        body = {"Topics": [] if version == 0 else None, "AllowAutoTopicCreation": False}
        resp = c.request("Metadata", version, body)
    assert [(b["NodeId"], b["Host"], b["Port"]) for b in resp["Brokers"]] == \
        [(1, "127.0.0.1", shared_broker.port)]
    if version >= 1:
        assert resp["ControllerId"] == 1, "a single node must report itself as controller"
    if version >= 2:
        assert resp["ClusterId"], "cluster id should be set"


def test_metadata_topic_partitions(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), partitions=3)
    with kwire.Conn(shared_broker.bootstrap) as c:
        for version in (1, 9, 12):
            resp = kwire.metadata(c, [t], version=version)
            topics = {x["Name"]: x for x in resp["Topics"]}
            assert topics[t]["ErrorCode"] == 0
            parts = sorted(topics[t]["Partitions"], key=lambda p: p["PartitionIndex"])
            assert [p["PartitionIndex"] for p in parts] == [0, 1, 2]
            for p in parts:
                assert (p["ErrorCode"], p["LeaderId"], p["ReplicaNodes"], p["IsrNodes"]) == (0, 1, [1], [1]), p
        # "All topics" lists it; v1 null topic list means all.
        all_topics = [x["Name"] for x in kwire.metadata(c, None, version=1)["Topics"]]
        assert t in all_topics


def test_metadata_unknown_topic_without_auto_create(broker):
    b = broker({"auto.create.topics.enable": "false"})
    with kwire.Conn(b.bootstrap) as c:
        for allow in (False, True):
            resp = kwire.metadata(c, ["no-such-topic"], version=9, allow_auto_create=allow)
            assert resp["Topics"][0]["ErrorCode"] == kwire.UNKNOWN_TOPIC_OR_PARTITION
        assert "no-such-topic" not in [x["Name"] for x in kwire.metadata(c, None)["Topics"]]


def test_metadata_auto_create(broker):
    b = broker({"auto.create.topics.enable": "true", "num.partitions": "2"})
    with kwire.Conn(b.bootstrap) as c:
        resp = kwire.metadata(c, ["not-allowed"], version=9, allow_auto_create=False)
        assert resp["Topics"][0]["ErrorCode"] == kwire.UNKNOWN_TOPIC_OR_PARTITION, \
            "AllowAutoTopicCreation=false must not create"

        def created():
            t = kwire.metadata(c, ["auto-made"], version=9, allow_auto_create=True)["Topics"][0]
            return t if t["ErrorCode"] == 0 and len(t["Partitions"]) == 2 else None
        topic = helpers.wait_until(created, timeout=10, what="auto-created topic with 2 partitions")
        assert all(p["LeaderId"] == 1 for p in topic["Partitions"])
        assert "not-allowed" not in [x["Name"] for x in kwire.metadata(c, None)["Topics"]]


def test_librdkafka_list_topics(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), partitions=4)
    md = AdminClient({"bootstrap.servers": shared_broker.bootstrap}).list_topics(timeout=10)
    assert md.controller_id == 1
    assert list(md.brokers) == [1]
    assert sorted(md.topics[t].partitions) == [0, 1, 2, 3]
    assert md.topics[t].partitions[2].leader == 1


def test_kafka_python_bootstrap_and_metadata(shared_broker, topic_name):
    kafka = pytest.importorskip("kafka")
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), partitions=2)
    consumer = kafka.KafkaConsumer(bootstrap_servers=shared_broker.bootstrap, group_id=None,
                                   request_timeout_ms=10000, api_version_auto_timeout_ms=5000)
    try:
        # kafka-python guesses the broker release from ApiVersions (+ a pipelined
        # Metadata v0); below 2.1 it would fall back to old message formats.
        assert consumer.config["api_version"] >= (2, 1), consumer.config["api_version"]
        assert t in consumer.topics()
        assert consumer.partitions_for_topic(t) == {0, 1}
    finally:
        consumer.close()
