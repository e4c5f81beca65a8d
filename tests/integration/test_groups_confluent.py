"""Consumer groups with confluent-kafka-python 1.7.0 (librdkafka 2.0.2) members.

Each member is its own process (group_helpers.Member) so that it can be
closed (LeaveGroup), crashed (SIGKILL: session timeout) or frozen (SIGSTOP).
"""

import time

import pytest
from confluent_kafka import Consumer, TopicPartition

import group_helpers as gh
import helpers
from group_helpers import members  # noqa: F401  (fixture)

BROKER_PROPS = dict(gh.GROUP_BROKER_PROPS)


@pytest.fixture(autouse=True)
def _group_apis(shared_broker):
    gh.require_group_apis(shared_broker.bootstrap)


def test_leave_kill_join_every_partition_one_owner(shared_broker, topic_name, members):
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=6)
    # librdkafka's default partition.assignment.strategy is "range,roundrobin": range wins.
    gh.leave_kill_join_scenario(bs, t, "confluent", members, "g-" + t, protocol="range")


def test_cooperative_sticky_rebalances_incrementally(shared_broker, topic_name, members):
    """cooperative-sticky: when c joins, a and b give up only what moves to c
    and keep consuming the rest; when c leaves, a and b only gain.

    Records are produced between membership changes, not during them:
    librdkafka 2.0.2 pauses its fetchers at the *fetch* position during an
    incremental rebalance ("Pausing fetchers ...: incremental rebalance",
    "Pause t [1]: at offset 315" while the application was at 276) and drops
    what it had queued, silently skipping those records. That is a client bug
    the broker cannot prevent, so the fetch queues are kept empty across
    rebalances; every record must still be consumed exactly once."""
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=6)
    g = "g-" + t
    tps = gh.all_tps({t: 6})
    conf = {"partition.assignment.strategy": "cooperative-sticky"}
    produced = gh.produce_batch(bs, t, 6, 300, prefix="one")
    a = members.start("confluent", bs, g, [t], "coop-a", conf=conf)
    b = members.start("confluent", bs, g, [t], "coop-b", conf=conf)
    snap1 = gh.wait_settled([a, b], tps)
    assert sorted(len(s) for s in snap1.values()) == [3, 3], snap1
    gh.assert_describe_matches(bs, g, snap1, protocol="cooperative-sticky")
    gh.wait_all_consumed(members.all, produced)

    joined = time.time()
    c = members.start("confluent", bs, g, [t], "coop-c", conf=conf)
    snap2 = gh.wait_settled([a, b, c], tps)
    assert [len(s) for s in snap2.values()] == [2, 2, 2], snap2
    gh.assert_describe_matches(bs, g, snap2, protocol="cooperative-sticky")
    for m in (a, b):
        # Incremental: a and b only gave up what moved to c; what they kept was never revoked.
        kept = snap2[m.name]
        assert kept <= snap1[m.name], "%s got new partitions when c joined: %r -> %r" % (
            m.name, snap1[m.name], kept)
        revoked = {tp for e in m.evs("revoked") if e["t"] >= joined for tp in e["parts"]}
        assert revoked == snap1[m.name] - kept, "%s revoked %r, should only give up %r" % (
            m.name, revoked, snap1[m.name] - kept)
        assert all(not e.get("full") for e in m.evs("assigned")), "eager assignment under cooperative-sticky"
    produced += gh.produce_batch(bs, t, 6, 300, prefix="two")
    gh.wait_all_consumed(members.all, produced)

    left = time.time()
    c.stop()
    snap3 = gh.wait_settled([a, b], tps)
    assert sorted(len(s) for s in snap3.values()) == [3, 3], snap3
    for m in (a, b):
        assert not [e for e in m.evs("revoked") if e["t"] >= left], \
            "%s had partitions revoked when c left (should only gain): %r" % (m.name, m.evs()[-6:])
        assert snap3[m.name] >= snap2[m.name], "%s lost partitions when c left" % m.name
    gh.assert_describe_matches(bs, g, snap3, protocol="cooperative-sticky")
    produced += gh.produce_batch(bs, t, 6, 300, prefix="three")
    gh.wait_all_consumed(members.all, produced)
    gh.assert_no_overlapping_ownership(members.all)
    assert gh.assert_delivery(members.all, produced) == [], "redelivered without any crash"


def test_static_member_restarts_without_rebalance(shared_broker, topic_name, members):
    """Each of three static members (group.instance.id) in turn crashes and
    comes back within session.timeout.ms: it gets its old partitions back and
    the others see no rebalance (no callbacks, librdkafka rebalance_cnt unchanged,
    member ids unchanged in DescribeGroups)."""
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=6)
    g = "g-" + t
    tps = gh.all_tps({t: 6})

    def conf(name):
        return {"group.instance.id": "instance-" + name, "session.timeout.ms": 30000}

    prod = gh.BackgroundProducer(bs, t, 6)
    try:
        live = {n: members.start("confluent", bs, g, [t], n, conf=conf(n)) for n in ("st-a", "st-b", "st-c")}
        snap = gh.wait_settled(list(live.values()), tps)
        gh.wait_for(lambda: all(m.stats() and m.stats()["rebalance_cnt"] is not None for m in live.values()), 10,
                    "librdkafka statistics")
        _, mem = gh.describe_members(bs, g)
        assert {n: mem[n][1] for n in live} == {n: "instance-" + n for n in live}, \
            "DescribeGroups GroupInstanceId: %r" % mem
        problems = []
        for name in list(live):
            others = [m for n, m in live.items() if n != name]
            before = {m.name: (len(m.evs("assigned")), len(m.evs("revoked")), m.stats()["rebalance_cnt"])
                      for m in others}
            _, mem_before = gh.describe_members(bs, g)
            live[name].kill()
            live[name] = m = members.start("confluent", bs, g, [t], name, conf=conf(name))
            gh.wait_for(lambda: m.evs("assigned"), 40, "restarted static member %s to get its assignment" % name)
            snap2 = gh.wait_settled(list(live.values()), tps, quiet=3.0)
            time.sleep(1.5)  # a statistics interval, so a rebalance would show in rebalance_cnt
            after = {o.name: (len(o.evs("assigned")), len(o.evs("revoked")), o.stats()["rebalance_cnt"])
                     for o in others}
            g_, mem_after = gh.describe_members(bs, g)
            if snap2 != snap:
                problems.append("restart of %s changed the assignment: %r -> %r" % (name, snap, snap2))
            if after != before:
                problems.append("restart of %s rebalanced the others: (assigned, revoked, rebalance_cnt) %r -> %r"
                                % (name, before, after))
            changed_ids = [o.name for o in others if mem_after[o.name][0] != mem_before[o.name][0]]
            if changed_ids:
                problems.append("restart of %s changed the member ids of %r" % (name, changed_ids))
            if g_["GroupState"] != "Stable" or mem_after[name][1] != "instance-" + name or \
                    mem_after[name][2] != snap2[name]:
                problems.append("after the restart of %s DescribeGroups shows %s %r" % (name, g_["GroupState"],
                                                                                       mem_after[name]))
            snap = snap2
        assert not problems, "\n".join(problems)
    finally:
        produced = prod.stop()
    gh.wait_all_consumed(members.all, produced)
    gh.assert_no_overlapping_ownership(members.all)
    gh.assert_delivery(members.all, produced)


@pytest.mark.parametrize("how", ["restart", "kill9"])
def test_committed_offsets_survive_broker_restart(broker, topic_name, members, how):
    b = broker(gh.GROUP_BROKER_PROPS)
    t = helpers.create_topic(b.bootstrap, topic_name(), partitions=6)
    g = "g-" + t
    tps = gh.all_tps({t: 6})
    counts = [10 + 7 * p for p in range(6)]
    first = helpers.produce_all(b.bootstrap, t, [{"value": b"first-%d-%d" % (p, i), "partition": p}
                                                 for p in range(6) for i in range(counts[p])])
    assert len(first) == sum(counts)
    m1 = members.start("confluent", b.bootstrap, g, [t], "before-1")
    m2 = members.start("confluent", b.bootstrap, g, [t], "before-2")
    gh.wait_settled([m1, m2], tps)
    produced = [(t, r["partition"], r["offset"], None) for r in first]
    gh.wait_all_consumed([m1, m2], produced)
    m1.stop()
    m2.stop()
    committed = gh.offset_fetch(b.bootstrap, g, t, range(6))
    assert committed == {p: (counts[p], 0) for p in range(6)}, "committed before the restart: %r" % committed

    # More records the group has not seen.
    helpers.produce_all(b.bootstrap, t, [{"value": b"second-%d-%d" % (p, i), "partition": p}
                                         for p in range(6) for i in range(5)])
    if how == "restart":
        b.restart()
    else:
        b.kill9()
        b.start()
    assert gh.offset_fetch(b.bootstrap, g, t, range(6)) == committed, "committed offsets changed across %s" % how
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": g, "broker.address.family": "v4",
                  "enable.auto.commit": False})
    try:
        got = c.committed([TopicPartition(t, p) for p in range(6)], timeout=20)
    finally:
        c.close()
    assert [(tp.partition, tp.offset) for tp in got] == [(p, counts[p]) for p in range(6)]

    m3 = members.start("confluent", b.bootstrap, g, [t], "after")
    gh.wait_settled([m3], tps)
    gh.wait_for(lambda: len(m3.deliveries) >= 30, 30, "the resumed consumer to read the new records")
    time.sleep(1)
    with m3.lock:
        seen = sorted((p, o, v) for _, p, o, v, _ in m3.deliveries)
    assert seen == sorted((p, counts[p] + i, "second-%d-%d" % (p, i)) for p in range(6) for i in range(5)), \
        "after the %s the group must resume exactly at its committed offsets; got %r" % (how, seen[:12])


def test_stale_member_id_rejoins_transparently(shared_broker, topic_name, members):
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=6)
    gh.stale_member_scenario(bs, t, "confluent", members, "g-" + t)


def test_lag_from_committed_and_watermarks(shared_broker, topic_name):
    """Lag = high watermark - committed offset, read the way librdkafka tools do
    (Consumer.committed + get_watermark_offsets; confluent-kafka 1.7.0 has no
    AdminClient.list_consumer_group_offsets)."""
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=3)
    g = "g-" + t
    helpers.produce_all(bs, t, [{"value": b"x", "partition": p} for p in range(3) for _ in range(10 * (p + 1))])
    want_committed = {0: 4, 1: 20, 2: 0}
    c = Consumer({"bootstrap.servers": bs, "group.id": g, "broker.address.family": "v4",
                  "enable.auto.commit": False})
    try:
        # An assign()-only consumer commits with generation -1 (allowed: the group has no members).
        res = c.commit(offsets=[TopicPartition(t, p, o) for p, o in want_committed.items()], asynchronous=False)
        assert all(tp.error is None for tp in res), res
        committed = {tp.partition: tp.offset for tp in c.committed([TopicPartition(t, p) for p in range(3)],
                                                                   timeout=20)}
        high = {p: c.get_watermark_offsets(TopicPartition(t, p), timeout=10)[1] for p in range(3)}
    finally:
        c.close()
    assert committed == want_committed
    assert {p: high[p] - committed[p] for p in range(3)} == {0: 6, 1: 0, 2: 30}
    # The same through the raw API, and an uncommitted partition is -1.
    assert gh.offset_fetch(bs, g, t, [0, 1, 2]) == {p: (o, 0) for p, o in want_committed.items()}
    assert gh.offset_fetch(bs, "never-" + g, t, [0]) == {0: (-1, 0)}
