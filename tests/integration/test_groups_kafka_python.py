"""Consumer groups with kafka-python 2.0.2 members (JoinGroup v2, SyncGroup/
Heartbeat/LeaveGroup v1, OffsetCommit v2, OffsetFetch v1), alone and mixed
with librdkafka members, plus lag through KafkaAdminClient."""

import pytest

import group_helpers as gh
import helpers
from group_helpers import members  # noqa: F401  (fixture)

kafka = pytest.importorskip("kafka")

BROKER_PROPS = dict(gh.GROUP_BROKER_PROPS)


@pytest.fixture(autouse=True)
def _group_apis(shared_broker):
    gh.require_group_apis(shared_broker.bootstrap)


def test_leave_kill_join_every_partition_one_owner(shared_broker, topic_name, members):
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=6)
    gh.leave_kill_join_scenario(bs, t, "kafka", members, "g-" + t, protocol="range", assignors=["range"])


@pytest.mark.parametrize("assignor", ["range", "roundrobin"])
def test_assignor(shared_broker, topic_name, members, assignor):
    """The leader's assignment reaches every member unchanged: range gives each
    of 3 members two adjacent partitions, roundrobin every third one (members
    ordered by member id, as both assignors do)."""
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=6)
    g = "g-" + t
    tps = gh.all_tps({t: 6})
    produced = gh.produce_batch(bs, t, 6, 300)
    ms = [members.start("kafka", bs, g, [t], "%s-%d" % (assignor, i), assignors=[assignor]) for i in range(3)]
    snap = gh.wait_settled(ms, tps)
    by_id = sorted((m.member_id(), snap[m.name]) for m in ms)
    assert all(mid for mid, _ in by_id), "kafka-python reported no member id"
    got = [sorted(p for _, p in owned) for _, owned in by_id]
    want = [[0, 1], [2, 3], [4, 5]] if assignor == "range" else [[0, 3], [1, 4], [2, 5]]
    assert got == want, "%s assignment by member id: %r" % (assignor, got)
    gh.assert_describe_matches(bs, g, snap, protocol=assignor, topics=[t])
    protos = {e.get("protocol") for m in ms for e in m.evs("assigned")}
    assert protos == {assignor}, protos
    gens = {e.get("gen") for m in ms for e in m.evs("assigned")[-1:]}
    assert len(gens) == 1 and None not in gens, "members disagree on the generation: %r" % gens
    gh.wait_all_consumed(ms, produced)
    for m in ms:
        m.stop()
    assert gh.assert_delivery(ms, produced) == [], "redelivered although every member committed and left cleanly"
    gh.assert_no_rejected_commits(ms)


def test_protocol_selection(shared_broker, topic_name, members):
    """The coordinator picks a protocol every member supports, and refuses a
    member that supports none of the group's protocols (INCONSISTENT_GROUP_PROTOCOL)."""
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=4)
    g = "g-" + t
    tps = gh.all_tps({t: 4})
    both = members.start("kafka", bs, g, [t], "both", assignors=["range", "roundrobin"])
    rr = members.start("kafka", bs, g, [t], "rr-only", assignors=["roundrobin"])
    snap = gh.wait_settled([both, rr], tps)
    gh.assert_describe_matches(bs, g, snap, protocol="roundrobin")
    bad = members.start("kafka", bs, g, [t], "range-only", assignors=["range"])
    gh.wait_for(lambda: bad.proc.poll() is not None, 40, "the member with no common protocol to be refused")
    fatal = " ".join(e["err"] for e in bad.evs("fatal"))
    assert "InconsistentGroupProtocol" in fatal, "refused with something else: " + bad.describe()
    # The group is not disturbed for long: the two members still own everything.
    snap2 = gh.wait_settled([both, rr], tps)
    gh.assert_describe_matches(bs, g, snap2, protocol="roundrobin")


def test_mixed_clients_in_one_group(shared_broker, topic_name, members):
    """librdkafka and kafka-python members share one "range" group."""
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=6)
    g = "g-" + t
    tps = gh.all_tps({t: 6})
    prod = gh.BackgroundProducer(bs, t, 6)
    try:
        a = members.start("kafka", bs, g, [t], "mixed-kafka-python", assignors=["range"])
        b = members.start("confluent", bs, g, [t], "mixed-librdkafka", conf={"partition.assignment.strategy": "range"})
        snap = gh.wait_settled([a, b], tps)
        assert sorted(len(s) for s in snap.values()) == [3, 3], snap
        gh.assert_describe_matches(bs, g, snap, protocol="range", topics=[t])
        c = members.start("kafka", bs, g, [t], "mixed-kafka-python-2", assignors=["range"])
        snap = gh.wait_settled([a, b, c], tps)
        gh.assert_describe_matches(bs, g, snap, protocol="range")
        b.stop()
        snap = gh.wait_settled([a, c], tps)
        gh.assert_describe_matches(bs, g, snap, protocol="range")
    finally:
        produced = prod.stop()
    gh.wait_all_consumed(members.all, produced)
    gh.assert_no_overlapping_ownership(members.all)
    gh.assert_no_rejected_commits(members.all)
    assert gh.assert_delivery(members.all, produced) == [], "redelivered without any crash"


def test_stale_member_id_rejoins_transparently(shared_broker, topic_name, members):
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=6)
    gh.stale_member_scenario(bs, t, "kafka", members, "g-" + t)


def test_lag_through_admin_client(shared_broker, topic_name):
    """Lag = end offset - committed offset via KafkaAdminClient.list_consumer_group_offsets
    and KafkaConsumer.end_offsets; commit metadata is kept."""
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=3)
    g = "g-" + t
    helpers.produce_all(bs, t, [{"value": b"x", "partition": p} for p in range(3) for _ in range(10 * (p + 1))])
    tps = [TopicPartition(t, p) for p in range(3)]
    c = KafkaConsumer(bootstrap_servers=bs, group_id=g, enable_auto_commit=False)
    admin = KafkaAdminClient(bootstrap_servers=bs, request_timeout_ms=20000)
    try:
        c.assign(tps)
        c.commit({tps[0]: OffsetAndMetadata(3, "meta-0"), tps[1]: OffsetAndMetadata(20, "")})
        end = c.end_offsets(tps)
        offs = admin.list_consumer_group_offsets(g)
        assert {tp: (om.offset, om.metadata) for tp, om in offs.items()} == \
            {tps[0]: (3, "meta-0"), tps[1]: (20, "")}, "listed offsets %r" % offs
        lag = {tp.partition: end[tp] - offs[tp].offset for tp in offs}
        assert lag == {0: 7, 1: 0}
        explicit = admin.list_consumer_group_offsets(g, partitions=tps)
        assert explicit[tps[2]].offset == -1, "a partition without a commit must be -1: %r" % explicit
        # A later commit moves the lag.
        c.commit({tps[0]: OffsetAndMetadata(10, None)})
        assert admin.list_consumer_group_offsets(g)[tps[0]].offset == 10
    finally:
        c.close()
        admin.close()
