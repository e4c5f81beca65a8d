"""Self-checks of the raw protocol helper (kwire.py); no broker needed.

The schema-driven encoder is compared byte for byte with kafka-python's
independent, hand-written protocol structs, and the flexible (compact,
tagged) forms with bytes worked out by hand from RECORDS.md.
"""

import struct

import pytest

import kwire

kp_admin = pytest.importorskip("kafka.protocol.admin")
kp_fetch = pytest.importorskip("kafka.protocol.fetch")
kp_metadata = pytest.importorskip("kafka.protocol.metadata")
kp_offset = pytest.importorskip("kafka.protocol.offset")
kp_produce = pytest.importorskip("kafka.protocol.produce")
kp_records = pytest.importorskip("kafka.record.default_records")


def kp(obj):
    """Encode a kafka-python struct (kept alive: its encode() holds a weak reference)."""
    return bytes(obj.encode())


def test_crc32c_known_vectors():
    assert kwire.crc32c(b"123456789") == 0xE3069283
    assert kwire.crc32c(b"") == 0
    assert kwire.crc32c(bytes(32)) == 0x8A9136AA


def test_varints():
    assert kwire.uvarint(0) == b"\x00"
    assert kwire.uvarint(127) == b"\x7f"
    assert kwire.uvarint(300) == b"\xac\x02"
    assert kwire.varint(0) == b"\x00"
    assert kwire.varint(-1) == b"\x01"
    assert kwire.varint(1) == b"\x02"
    assert kwire.varint(-64) == b"\x7f"
    for n in (0, 1, -1, 63, -64, 1 << 40, -(1 << 40)):
        assert kwire.Reader(kwire.varint(n)).varint() == n


def _kafka_python_batch(records):
    b = kp_records.DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False,
                                             producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                             batch_size=1 << 20)
    for i, (key, value, headers, ts) in enumerate(records):
        b.append(i, timestamp=ts, key=key, value=value, headers=list(headers))
    return bytes(b.build())


RECORDS = [(b"k0", b"v0", [("h", b"x")], 1700000000000),
           (None, b"v1", [], 1700000000005),
           (b"k2", None, [("a", b"1"), ("b", None)], 1699999999990)]


def test_record_batch_matches_kafka_python():
    ours = kwire.record_batch(RECORDS)
    theirs = _kafka_python_batch(RECORDS)
    # kafka-python leaves partitionLeaderEpoch (bytes 12-15, not under the CRC)
    # at 0 where librdkafka and we send -1; every other byte must agree.
    assert ours[12:16] == b"\xff\xff\xff\xff"
    assert ours[:12] + ours[16:] == theirs[:12] + theirs[16:]
    # Header layout (RECORDS.md 5.1): magic at 16, CRC at 17 covering [21, end).
    assert ours[16] == 2
    assert struct.unpack_from(">I", ours, 17)[0] == kwire.crc32c(ours[21:])
    assert struct.unpack_from(">i", ours, 8)[0] == len(ours) - 12
    assert struct.unpack_from(">i", ours, 57)[0] == 3


def test_parse_batches_roundtrip_and_bad_crc():
    data = kwire.record_batch(RECORDS) + kwire.record_batch([(b"x", b"y", [], 1)], base_offset=3)
    batches = kwire.parse_batches(data + b"\x00\x00\x00")  # a truncated tail is ignored
    assert [b["base_offset"] for b in batches] == [0, 3]
    assert all(b["crc_ok"] for b in batches)
    recs = batches[0]["records"]
    assert [(r["offset"], r["key"], r["value"], r["timestamp"]) for r in recs] == \
        [(0, b"k0", b"v0", 1700000000000), (1, None, b"v1", 1700000000005), (2, b"k2", None, 1699999999990)]
    assert recs[2]["headers"] == [("a", b"1"), ("b", None)]
    assert batches[0]["max_timestamp"] == 1700000000005
    bad = kwire.parse_batches(kwire.record_batch(RECORDS, corrupt_crc=True))
    assert not bad[0]["crc_ok"]
    # kafka-python agrees that our CRC is right and the corrupted one wrong.
    assert kp_records.DefaultRecordBatch(bytearray(kwire.record_batch(RECORDS))).validate_crc()
    assert not kp_records.DefaultRecordBatch(bytearray(kwire.record_batch(RECORDS, corrupt_crc=True))).validate_crc()


def test_produce_request_bodies_match_kafka_python():
    batch = kwire.record_batch(RECORDS)
    for v in (3, 7):
        ours = kwire.encode_body("Produce", v, kwire.produce_body("t1", 2, batch, acks=-1, timeout_ms=1500))
        theirs = kp(kp_produce.ProduceRequest[v](transactional_id=None, required_acks=-1, timeout=1500,
                                                 topics=[("t1", [(2, batch)])]))
        assert ours == theirs, "Produce v%d" % v


def test_fetch_request_body_matches_kafka_python():
    ours = kwire.encode_body("Fetch", 11, kwire.fetch_body("t1", 0, 42, max_wait_ms=500, min_bytes=1,
                                                           max_bytes=1000))
    theirs = kp(kp_fetch.FetchRequest[11](replica_id=-1, max_wait_time=500, min_bytes=1, max_bytes=1000,
                                       isolation_level=0, session_id=0, session_epoch=-1,
                                       topics=[("t1", [(0, -1, 42, -1, 1000)])],
                                       forgotten_topics_data=[], rack_id=""))
    assert ours == theirs


def test_metadata_and_list_offsets_match_kafka_python():
    assert kwire.encode_body("Metadata", 1, {"Topics": None}) == kp(kp_metadata.MetadataRequest[1](topics=None))
    assert kwire.encode_body("Metadata", 4, {"Topics": [{"Name": "a"}], "AllowAutoTopicCreation": True}) == \
        kp(kp_metadata.MetadataRequest[4](topics=["a"], allow_auto_topic_creation=True))
    ours = kwire.encode_body("ListOffsets", 2, {"ReplicaId": -1, "IsolationLevel": 1, "Topics": [
        {"Name": "t", "Partitions": [{"PartitionIndex": 0, "Timestamp": -2}]}]})
    theirs = kp(kp_offset.OffsetRequest[2](replica_id=-1, isolation_level=1, topics=[("t", [(0, -2)])]))
    assert ours == theirs


def test_create_topics_v3_matches_kafka_python():
    body = {"Topics": [{"Name": "t", "NumPartitions": 3, "ReplicationFactor": 1, "Assignments": [],
                        "Configs": [{"Name": "retention.ms", "Value": "1000"}]}],
            "timeoutMs": 5000, "validateOnly": True}
    theirs = kp(kp_admin.CreateTopicsRequest[3](create_topic_requests=[("t", 3, 1, [], [("retention.ms", "1000")])],
                                                timeout=5000, validate_only=True))
    assert kwire.encode_body("CreateTopics", 3, body) == theirs


def test_metadata_response_v5_decodes_kafka_python_bytes():
    data = kp(kp_metadata.MetadataResponse[5](
        throttle_time_ms=0, brokers=[(1, "127.0.0.1", 9092, None)], cluster_id="c", controller_id=1,
        topics=[(0, "t", False, [(0, 0, 1, [1], [1], [])])]))
    got = kwire.decode_body("Metadata", 5, bytes(data))
    assert got["ControllerId"] == 1
    assert got["Brokers"] == [{"NodeId": 1, "Host": "127.0.0.1", "Port": 9092, "Rack": None}]
    part = got["Topics"][0]["Partitions"][0]
    assert (got["Topics"][0]["Name"], part["LeaderId"], part["ReplicaNodes"]) == ("t", 1, [1])


def test_flexible_request_header_and_body_by_hand():
    frame = kwire.encode_request("ApiVersions", 3, {"ClientSoftwareName": "fj", "ClientSoftwareVersion": "1.0"}, 7,
                                 client_id="c")
    expected_payload = (struct.pack(">hhi", 18, 3, 7) + b"\x00\x01c" + b"\x00"  # header v2: int16 client id, no tags
                        + b"\x03fj" + b"\x041.0" + b"\x00")  # compact strings, empty tag section
    assert frame == struct.pack(">i", len(expected_payload)) + expected_payload
    # Non-flexible: header v1, no tag bytes.
    frame0 = kwire.encode_request("ApiVersions", 0, {}, 9, client_id=None)
    assert frame0 == struct.pack(">ihhih", 10, 18, 0, 9, -1)


def test_flexible_response_with_tags_by_hand():
    # CreateTopics v5 response: throttle, compact array of 1 topic, with a
    # known tagged field (TopicConfigErrorCode, tag 0) and an unknown tag 9.
    topic = (b"\x02t" + struct.pack(">h", 36) + b"\x00"  # name, error code, null message
             + struct.pack(">ih", -1, -1) + b"\x00"  # partitions, replication factor, null configs
             + b"\x02" + b"\x00\x02" + struct.pack(">h", 40) + b"\x09\x01\xff")
    payload = struct.pack(">i", 5) + b"\x00" + struct.pack(">i", 0) + b"\x02" + topic + b"\x00"
    corr, body = kwire.decode_response("CreateTopics", 5, payload)
    assert corr == 5
    t = body["Topics"][0]
    assert (t["Name"], t["ErrorCode"], t["ErrorMessage"], t["TopicConfigErrorCode"]) == ("t", 36, None, 40)
    assert t["Configs"] is None
    # ApiVersions responses never carry a header tag section, even at v3.
    av = struct.pack(">i", 1) + struct.pack(">h", 0) + b"\x02" + struct.pack(">hhh", 18, 0, 4) + b"\x00" \
        + struct.pack(">i", 0) + b"\x00"
    corr, body = kwire.decode_response("ApiVersions", 3, av)
    assert body["ApiKeys"] == [{"ApiKey": 18, "MinVersion": 0, "MaxVersion": 4}]


def test_old_versions_come_from_schema_39():
    # CreateTopics v0 and DeleteTopics v0 are gone from the 4.x schema.
    assert kwire.encode_body("CreateTopics", 0, {"Topics": [], "timeoutMs": 1}) == struct.pack(">ii", 0, 1)
    assert kwire.encode_body("DeleteTopics", 0, {"TopicNames": ["a"], "TimeoutMs": 1}) == \
        kp(kp_admin.DeleteTopicsRequest[0](topics=["a"], timeout=1))
