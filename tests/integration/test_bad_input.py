"""Bad input gets its error (or a closed connection) and the broker keeps serving.

Every test ends by checking that the broker still answers on a fresh
connection and that an unrelated connection opened before was not disturbed.
"""

import os
import socket
import struct

import pytest

import helpers
import kwire

MESSAGE_MAX = 100000
REQUEST_MAX = 1048576

BROKER_PROPS = {"auto.create.topics.enable": "false", "message.max.bytes": str(MESSAGE_MAX),
         "socket.request.max.bytes": str(REQUEST_MAX)}


@pytest.fixture
def b(shared_broker, topic_name):
    """The module's broker (auto-create off, small limits) plus a bystander connection
    and a topic; afterwards checks that the broker and the bystander still work."""
    br = shared_broker
    br.topic = helpers.create_topic(br.bootstrap, topic_name())
    br.bystander = kwire.Conn(br.bootstrap)
    assert br.bystander.request("ApiVersions", 0, {})["ErrorCode"] == 0
    yield br
    assert br.alive(), "broker died; stderr:\n" + br.tail()
    assert_serves(br)
    try:
        resp = kwire.metadata(br.bystander, [br.topic])
        assert resp["Topics"][0]["ErrorCode"] == 0, "bystander connection got a wrong answer"
    finally:
        br.bystander.close()


def assert_serves(br):
    """A fresh connection can produce and fetch back."""
    with kwire.Conn(br.bootstrap) as c:
        before = kwire.list_offset(c, br.topic, 0, kwire.LATEST)["Offset"]
        p = kwire.produce(c, br.topic, 0, kwire.record_batch([(b"ok", b"still-serving")]))
        assert p["ErrorCode"] == 0 and p["BaseOffset"] == before
        part = kwire.fetch(c, br.topic, 0, before)
        assert [r["value"] for bt in part["batches"] for r in bt["records"]] == [b"still-serving"]


def closed_or_answered(conn, corr=None, timeout=5.0):
    """The broker either closes the connection or sends one response frame
    (with our correlation id if one is given). Returns "closed" or the frame."""
    try:
        frame = conn.recv_frame(timeout=timeout)
    except (ConnectionError, OSError) as e:
        if isinstance(e, socket.timeout):
            raise AssertionError("broker neither answered nor closed the connection within %.0f s" % timeout)
        return "closed"
    if corr is not None:
        assert struct.unpack_from(">i", frame)[0] == corr, "response with the wrong correlation id"
    return frame


def log_end(br):
    return helpers.latest_offset(br.bootstrap, br.topic)


# ---------------------------------------------------------------- framing

@pytest.mark.parametrize("length", [-1, -2147483648, 0x7FFFFFFF, REQUEST_MAX + 1, 64 << 20])
def test_bad_frame_length_closes_connection(b, length):
    with kwire.Conn(b.bootstrap) as c:
        c.send_raw(struct.pack(">i", length) + b"\x00\x12\x00\x00")
        assert c.is_closed(timeout=10), "frame length %d must close the connection" % length


def test_frame_over_request_max_with_data(b):
    with kwire.Conn(b.bootstrap) as c:
        size = REQUEST_MAX + 4096
        try:
            c.send_raw(struct.pack(">i", size) + kwire.request_header(0, 7, 1) + os.urandom(256 << 10))
        except OSError:
            pass  # the broker may close while we are still writing
        # Closed, or an error answer; never a broker that waits for the rest.
        closed_or_answered(c, corr=1, timeout=10)


@pytest.mark.parametrize("payload", [b"", b"\x00", b"\x00\x03\x00", b"\x00\x12\x00\x00\x00\x00"],
                         ids=["empty", "1-byte", "3-bytes", "no-client-id"])
def test_frame_shorter_than_header(b, payload):
    with kwire.Conn(b.bootstrap) as c:
        c.send_raw(struct.pack(">i", len(payload)) + payload)
        closed_or_answered(c)


def test_client_id_longer_than_frame(b):
    payload = struct.pack(">hhih", 3, 1, 5, 500) + b"abc"
    with kwire.Conn(b.bootstrap) as c:
        c.send_raw(struct.pack(">i", len(payload)) + payload)
        closed_or_answered(c)


def test_garbage_frames(b):
    rnd = __import__("random").Random(1234)
    for n in range(20):
        body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200)))
        with kwire.Conn(b.bootstrap) as c:
            c.send_raw(struct.pack(">i", len(body)) + body)
            closed_or_answered(c)


def test_truncated_request_bodies(b):
    full = kwire.encode_request("Produce", 7, kwire.produce_body(b.topic, 0, kwire.record_batch([(b"k", b"v")])), 9)
    end = log_end(b)
    for cut in (14, 20, 30, 40, len(full) - 30, len(full) - 1):
        payload = full[4:cut]
        with kwire.Conn(b.bootstrap) as c:
            c.send_raw(struct.pack(">i", len(payload)) + payload)  # consistent length, cut body
            closed_or_answered(c, corr=9)
    assert log_end(b) == end, "a truncated produce must append nothing"


def test_partial_frame_then_disconnect(b):
    for n in range(10):
        with socket.create_connection(("127.0.0.1", b.port), timeout=5) as s:
            s.sendall(struct.pack(">i", 100) + b"\x00\x03\x00\x01" + bytes(n))


def test_unknown_api_key(b):
    for key in (99, 1000, 32767, -5):
        payload = struct.pack(">hhi", key, 0, 77) + struct.pack(">h", 1) + b"x" + b"\x00" * 8
        with kwire.Conn(b.bootstrap) as c:
            c.send_raw(struct.pack(">i", len(payload)) + payload)
            closed_or_answered(c, corr=77)


@pytest.mark.parametrize("api,version", [("Metadata", 99), ("Produce", 50), ("Fetch", 999), ("Fetch", 1),
                                         ("ListOffsets", 50), ("CreateTopics", 77)])
def test_unknown_api_version(b, api, version):
    payload = kwire.request_header(kwire.API_KEYS[api], version, 55, "kwire") + b"\x00" * 16
    with kwire.Conn(b.bootstrap) as c:
        c.send_raw(struct.pack(">i", len(payload)) + payload)
        closed_or_answered(c, corr=55)


def test_bad_request_does_not_affect_pipelined_good_ones_on_other_connections(b):
    conns = [kwire.Conn(b.bootstrap) for _ in range(5)]
    try:
        for c in conns:
            c.send("Metadata", 9, {"Topics": None})
        with kwire.Conn(b.bootstrap) as bad:
            bad.send_raw(struct.pack(">i", -1))
            assert bad.is_closed(10)
        for c in conns:
            corr, resp = c.recv()
            assert resp["Brokers"][0]["NodeId"] == 1
    finally:
        for c in conns:
            c.close()


# ---------------------------------------------------------------- produce validation

def test_bad_crc_gets_corrupt_message(b):
    end = log_end(b)
    with kwire.Conn(b.bootstrap) as c:
        p = kwire.produce(c, b.topic, 0, kwire.record_batch([(b"k", b"corrupt")] * 3, corrupt_crc=True))
        assert p["ErrorCode"] == kwire.CORRUPT_MESSAGE
        # Flip one payload byte instead, keeping the producer's CRC.
        batch = bytearray(kwire.record_batch([(b"k", b"flipped")]))
        batch[-3] ^= 0x55
        assert kwire.produce(c, b.topic, 0, bytes(batch))["ErrorCode"] == kwire.CORRUPT_MESSAGE
    assert log_end(b) == end, "nothing of a corrupt batch may reach the log"


def test_batch_over_message_max_bytes(b):
    end = log_end(b)
    big = kwire.record_batch([(b"k", b"x" * (MESSAGE_MAX + 1000))])
    with kwire.Conn(b.bootstrap) as c:
        assert kwire.produce(c, b.topic, 0, big)["ErrorCode"] == kwire.MESSAGE_TOO_LARGE
        many = kwire.record_batch([(b"k", b"y" * 1000)] * 120)  # many small records, batch over the limit
        assert kwire.produce(c, b.topic, 0, many)["ErrorCode"] == kwire.MESSAGE_TOO_LARGE
        ok = kwire.record_batch([(b"k", b"z" * (MESSAGE_MAX - 1000))])
        assert kwire.produce(c, b.topic, 0, ok)["ErrorCode"] == kwire.NONE, "a batch under the limit is accepted"
    assert log_end(b) == end + 1


def test_unknown_topic_without_auto_create(b):
    with kwire.Conn(b.bootstrap) as c:
        p = kwire.produce(c, "no-such-topic-bad-input", 0, kwire.record_batch([(b"k", b"v")]))
        assert p["ErrorCode"] == kwire.UNKNOWN_TOPIC_OR_PARTITION
        assert kwire.metadata(c, ["no-such-topic-bad-input"])["Topics"][0]["ErrorCode"] == \
            kwire.UNKNOWN_TOPIC_OR_PARTITION, "produce must not auto-create the topic"
        p = kwire.produce(c, b.topic, 7, kwire.record_batch([(b"k", b"v")]))
        assert p["ErrorCode"] == kwire.UNKNOWN_TOPIC_OR_PARTITION, "partition out of range"
        f = kwire.fetch(c, "no-such-topic-bad-input", 0, 0)
        assert f["ErrorCode"] == kwire.UNKNOWN_TOPIC_OR_PARTITION


def test_inconsistent_record_count(b):
    end = log_end(b)
    batch = bytearray(kwire.record_batch([(b"k", b"v%d" % i) for i in range(3)]))
    struct.pack_into(">i", batch, 57, 5)  # claims 5 records, holds 3
    struct.pack_into(">I", batch, 17, kwire.crc32c(bytes(batch[21:])))
    with kwire.Conn(b.bootstrap) as c:
        err = kwire.produce(c, b.topic, 0, bytes(batch))["ErrorCode"]
    assert err in (kwire.CORRUPT_MESSAGE, 87), "error %d (want CORRUPT_MESSAGE or INVALID_RECORD)" % err
    assert log_end(b) == end


def test_rejected_partition_does_not_block_good_one(b, topic_name):
    other = helpers.create_topic(b.bootstrap, topic_name("-other"))
    body = {"TransactionalId": None, "Acks": -1, "TimeoutMs": 5000, "TopicData": [
        {"Name": b.topic, "PartitionData": [{"Index": 0, "Records": kwire.record_batch([(b"k", b"bad")],
                                                                                        corrupt_crc=True)}]},
        {"Name": other, "PartitionData": [{"Index": 0, "Records": kwire.record_batch([(b"k", b"good")])}]}]}
    end = log_end(b)
    with kwire.Conn(b.bootstrap) as c:
        resp = c.request("Produce", 7, body)
    errs = {t["Name"]: t["PartitionResponses"][0]["ErrorCode"] for t in resp["Responses"]}
    assert errs == {b.topic: kwire.CORRUPT_MESSAGE, other: kwire.NONE}
    assert log_end(b) == end
    assert [r["value"] for r in helpers.fetch_all_raw(b.bootstrap, other)] == [b"good"]


def test_garbage_in_records_field(b):
    end = log_end(b)
    with kwire.Conn(b.bootstrap) as c:
        for junk in (b"\x00" * 10, b"\xff" * 70, os.urandom(200)):
            err = kwire.produce(c, b.topic, 0, junk)["ErrorCode"]
            assert err != kwire.NONE, "garbage records accepted"
    assert log_end(b) == end
