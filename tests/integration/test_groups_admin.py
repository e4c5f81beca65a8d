"""ListGroups / DescribeGroups / DeleteGroups / OffsetDelete against running
groups, through confluent-kafka (AdminClient.list_groups), kafka-python
(KafkaAdminClient) and raw requests of several versions."""

import time

import pytest
from confluent_kafka.admin import AdminClient

import group_helpers as gh
import helpers
from group_helpers import members  # noqa: F401  (fixture)

kafka = pytest.importorskip("kafka")

BROKER_PROPS = dict(gh.GROUP_BROKER_PROPS)


@pytest.fixture(autouse=True)
def _group_apis(shared_broker):
    gh.require_group_apis(shared_broker.bootstrap)


def _admin(bs):
    from kafka import KafkaAdminClient
    return KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=20000)


def test_list_and_describe_show_the_truth(shared_broker, topic_name, members):
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=4)
    g = "g-" + t
    tps = gh.all_tps({t: 4})
    produced = gh.produce_batch(bs, t, 4, 100)
    a = members.start("confluent", bs, g, [t], "desc-librdkafka", conf={"partition.assignment.strategy": "roundrobin"})
    b = members.start("kafka", bs, g, [t], "desc-kafka-python", assignors=["roundrobin"])
    snap = gh.wait_settled([a, b], tps)
    gh.wait_all_consumed([a, b], produced)

    # Raw DescribeGroups, old and new versions, agree with the clients.
    for v in (0, 1, 3, 4, 5):
        grp = gh.describe_group(bs, g, version=v)
        assert (grp["ErrorCode"], grp["GroupState"], grp["ProtocolType"], grp["ProtocolData"]) == \
            (0, "Stable", "consumer", "roundrobin"), "DescribeGroups v%d: %r" % (v, grp)
        assert {m["ClientId"]: gh.decode_assignment(m["MemberAssignment"]) for m in grp["Members"]} == snap, \
            "DescribeGroups v%d members %r, clients say %r" % (v, grp["Members"], snap)
        assert all(gh.decode_subscription(m["MemberMetadata"]) == [t] for m in grp["Members"]), grp["Members"]
    gh.assert_describe_matches(bs, g, snap, protocol="roundrobin", topics=[t])
    for v in (0, 1, 2, 3, 4):
        listed = gh.list_groups(bs, version=v)
        assert g in listed and listed[g]["ProtocolType"] == "consumer", "ListGroups v%d: %r" % (v, listed.get(g))
        if v >= 4:
            assert listed[g]["GroupState"] == "Stable", listed[g]
    assert g in gh.list_groups(bs, version=4, states=["Stable"])
    assert g not in gh.list_groups(bs, version=4, states=["Empty"])

    # librdkafka's view (ListGroups + DescribeGroups).
    cadmin = AdminClient({"bootstrap.servers": bs, "broker.address.family": "v4"})
    [info] = cadmin.list_groups(g, timeout=20)
    assert (info.id, info.state, info.protocol_type, info.protocol) == (g, "Stable", "consumer", "roundrobin"), info
    assert {m.client_id: gh.decode_assignment(m.assignment) for m in info.members} == snap
    assert all(m.id for m in info.members)
    hosts = {m.client_id: m.client_host for m in info.members}
    assert g in {x.id for x in cadmin.list_groups(timeout=20)}

    # kafka-python's view.
    admin = _admin(bs)
    try:
        assert (g, "consumer") in admin.list_consumer_groups()
        [d] = admin.describe_consumer_groups([g])
        assert (d.group, d.state, d.protocol_type, d.protocol) == (g, "Stable", "consumer", "roundrobin"), d
        assert {m.client_id: {(tt, p) for tt, ps in m.member_assignment.assignment for p in ps}
                for m in d.members} == snap
        assert all(m.member_metadata.subscription == [t] for m in d.members)

        # Everyone leaves: Empty, no members, still listed (it has offsets), offsets kept.
        a.stop()
        b.stop()
        grp = gh.wait_group_state(bs, g, "Empty")
        assert grp["Members"] == [] and grp["ProtocolType"] == "consumer", grp
        [d] = admin.describe_consumer_groups([g])
        assert (d.state, d.members) == ("Empty", []), d
        assert (g, "consumer") in admin.list_consumer_groups()
        assert gh.list_groups(bs, version=4)[g]["GroupState"] == "Empty"
        offs = admin.list_consumer_group_offsets(g)
        assert {(tp.partition, om.offset) for tp, om in offs.items()} == {(p, 25) for p in range(4)}, offs
    finally:
        admin.close()

    # A group that never existed.
    grp = gh.describe_group(bs, "no-such-" + g)
    assert (grp["ErrorCode"], grp["GroupState"], grp["Members"]) == (0, "Dead", []), \
        "DescribeGroups of an unknown group: Kafka answers state Dead, no error: %r" % grp

    # Every member's ClientHost was its address (Kafka: "/127.0.0.1"), as kafka-consumer-groups shows it.
    assert all("127.0.0.1" in h for h in hosts.values()), "DescribeGroups ClientHost: %r" % hosts


def test_delete_group_only_when_empty(shared_broker, topic_name, members):
    from kafka.errors import GroupIdNotFoundError, NoError, NonEmptyGroupError

    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=2)
    g = "g-" + t
    tps = gh.all_tps({t: 2})
    produced = gh.produce_batch(bs, t, 2, 20)
    m = members.start("confluent", bs, g, [t], "deleter")
    gh.wait_settled([m], tps)
    gh.wait_all_consumed([m], produced)
    admin = _admin(bs)
    try:
        assert admin.delete_consumer_groups([g]) == [(g, NonEmptyGroupError)], "deleting a group with members"
        assert gh.describe_group(bs, g)["GroupState"] == "Stable", "a refused delete must leave the group alone"
        m.stop()
        gh.wait_group_state(bs, g, "Empty")
        assert gh.offset_fetch(bs, g, t, [0, 1]) == {0: (10, 0), 1: (10, 0)}
        assert admin.delete_consumer_groups([g]) == [(g, NoError)]
        grp = gh.describe_group(bs, g)
        assert (grp["GroupState"], grp["Members"]) == ("Dead", []), grp
        assert g not in gh.list_groups(bs), "a deleted group is still listed"
        assert (g, "consumer") not in admin.list_consumer_groups()
        assert gh.offset_fetch(bs, g, t, [0, 1]) == {0: (-1, 0), 1: (-1, 0)}, "a deleted group kept its offsets"
        assert admin.delete_consumer_groups([g]) == [(g, GroupIdNotFoundError)], "deleting it again"
        assert admin.delete_consumer_groups(["never-" + g]) == [("never-" + g, GroupIdNotFoundError)]
    finally:
        admin.close()

    # The same id can be used again from scratch: it starts at the beginning (no offsets).
    m2 = members.start("confluent", bs, g, [t], "reborn")
    gh.wait_settled([m2], tps)
    gh.wait_all_consumed([m2], produced)
    assert sorted(o for _, p, o, _, _ in m2.deliveries if p == 0)[:1] == [0]


def test_offset_delete(shared_broker, topic_name, members):
    """OffsetDelete v0: refused per partition for a topic the group is
    subscribed to (GROUP_SUBSCRIBED_TO_TOPIC), allowed once the group is empty."""
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=2)
    g = "g-" + t
    produced = gh.produce_batch(bs, t, 2, 10)
    m = members.start("confluent", bs, g, [t], "offdel")
    gh.wait_settled([m], gh.all_tps({t: 2}))
    gh.wait_all_consumed([m], produced)
    body = {"GroupId": g, "Topics": [{"Name": t, "Partitions": [{"PartitionIndex": 0}]}]}
    with gh.conn(bs) as c:
        r = c.request("OffsetDelete", 0, body)
    assert r["ErrorCode"] == 0 and r["Topics"][0]["Partitions"][0]["ErrorCode"] == gh.GROUP_SUBSCRIBED_TO_TOPIC, r
    m.stop()
    gh.wait_group_state(bs, g, "Empty")
    with gh.conn(bs) as c:
        r = c.request("OffsetDelete", 0, body)
    assert r["ErrorCode"] == 0 and r["Topics"][0]["Partitions"][0]["ErrorCode"] == 0, r
    assert gh.offset_fetch(bs, g, t, [0, 1]) == {0: (-1, 0), 1: (5, 0)}
    with gh.conn(bs) as c:
        r = c.request("OffsetDelete", 0, dict(body, GroupId="never-" + g))
    assert r["ErrorCode"] == gh.GROUP_ID_NOT_FOUND, r


def test_wire_join_protocol(shared_broker, topic_name):
    """The JoinGroup details clients branch on (client-api-versions.md quirk 8):
    v4+ with an empty member id gets MEMBER_ID_REQUIRED plus an id, v0-3 get an
    id directly; a stale generation is ILLEGAL_GENERATION; unknown ids UNKNOWN_MEMBER_ID."""
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=2)
    g = "g-" + t
    meta = gh.encode_subscription([t])

    def join(c, v, member_id="", timeout=30):
        body = {"GroupId": g, "SessionTimeoutMs": 6000, "RebalanceTimeoutMs": 10000, "MemberId": member_id,
                "ProtocolType": "consumer", "Protocols": [{"Name": "range", "Metadata": meta}]}
        return c.request("JoinGroup", v, body, timeout=timeout)

    with gh.conn(bs, timeout=30) as c:
        r = join(c, 5)
        assert r["ErrorCode"] == gh.MEMBER_ID_REQUIRED and r["MemberId"], \
            "JoinGroup v5 with no member id: error %d, member id %r" % (r["ErrorCode"], r["MemberId"])
        mid = r["MemberId"]
        r = join(c, 5, mid)
        assert r["ErrorCode"] == 0 and r["Leader"] == mid and r["MemberId"] == mid, r
        assert r["GenerationId"] >= 1 and r["ProtocolName"] == "range"
        assert [(x["MemberId"], x["Metadata"]) for x in r["Members"]] == [(mid, meta)], r["Members"]
        gen = r["GenerationId"]
        assign = gh.encode_assignment({t: [0, 1]})
        s = c.request("SyncGroup", 3, {"GroupId": g, "GenerationId": gen, "MemberId": mid,
                                       "Assignments": [{"MemberId": mid, "Assignment": assign}]})
        assert s["ErrorCode"] == 0 and s["Assignment"] == assign, s
        assert c.request("Heartbeat", 3, {"GroupId": g, "GenerationId": gen, "MemberId": mid})["ErrorCode"] == 0
        assert c.request("Heartbeat", 3, {"GroupId": g, "GenerationId": gen + 5, "MemberId": mid})["ErrorCode"] \
            == gh.ILLEGAL_GENERATION
        assert c.request("Heartbeat", 3, {"GroupId": g, "GenerationId": gen, "MemberId": "nobody"})["ErrorCode"] \
            == gh.UNKNOWN_MEMBER_ID
        oc = c.request("OffsetCommit", 7, {"GroupId": g, "GenerationIdOrMemberEpoch": gen + 5, "MemberId": mid,
                                           "Topics": [{"Name": t, "Partitions": [
                                               {"PartitionIndex": 0, "CommittedOffset": 1}]}]})
        assert oc["Topics"][0]["Partitions"][0]["ErrorCode"] == gh.ILLEGAL_GENERATION, oc
        oc = c.request("OffsetCommit", 7, {"GroupId": g, "GenerationIdOrMemberEpoch": gen, "MemberId": mid,
                                           "Topics": [{"Name": t, "Partitions": [
                                               {"PartitionIndex": 0, "CommittedOffset": 1,
                                                "CommittedMetadata": "m"}]}]})
        assert oc["Topics"][0]["Partitions"][0]["ErrorCode"] == 0, oc
        grp = gh.describe_group(bs, g)
        assert grp["GroupState"] == "Stable" and [m["MemberId"] for m in grp["Members"]] == [mid], grp
        lv = c.request("LeaveGroup", 1, {"GroupId": g, "MemberId": mid})
        assert lv["ErrorCode"] == 0, lv
    assert gh.describe_group(bs, g)["GroupState"] == "Empty"
    assert gh.offset_fetch(bs, g, t, [0]) == {0: (1, 0)}

    # JoinGroup v2 (kafka-python) and v1 (sarama 1.22.1): a member id right away.
    g2 = g + "-old"
    with gh.conn(bs, timeout=30) as c:
        for v in (2, 1):
            body = {"GroupId": g2, "SessionTimeoutMs": 6000, "RebalanceTimeoutMs": 10000, "MemberId": "",
                    "ProtocolType": "consumer", "Protocols": [{"Name": "range", "Metadata": meta}]}
            r = c.request("JoinGroup", v, body, timeout=30)
            assert r["ErrorCode"] == 0 and r["MemberId"], "JoinGroup v%d with no member id: %r" % (v, r)
            assert c.request("LeaveGroup", 0, {"GroupId": g2, "MemberId": r["MemberId"]})["ErrorCode"] == 0
            time.sleep(0.1)
