"""The classic group protocol at the wire level (src/group/, src/handlers/group_*.c).

Raw requests through kwire: the MEMBER_ID_REQUIRED flow of JoinGroup v4+,
the member id handed out by the first join of v0-v3, heartbeat errors,
OffsetCommit/OffsetFetch round trips (including multi-group OffsetFetch v8),
DeleteGroups on a group with members, and persistence across a restart.
Client-level rebalance scenarios live in test_groups_*.py.
"""

import struct
import time

import kwire

kwire.API_KEYS.update({"OffsetCommit": 8, "OffsetFetch": 9, "FindCoordinator": 10, "JoinGroup": 11,
                       "Heartbeat": 12, "LeaveGroup": 13, "SyncGroup": 14, "DescribeGroups": 15,
                       "ListGroups": 16, "DeleteGroups": 42, "OffsetDelete": 47})

ILLEGAL_GENERATION = 22
INCONSISTENT_GROUP_PROTOCOL = 23
UNKNOWN_MEMBER_ID = 25
INVALID_SESSION_TIMEOUT = 26
REBALANCE_IN_PROGRESS = 27
NON_EMPTY_GROUP = 68
GROUP_ID_NOT_FOUND = 69
MEMBER_ID_REQUIRED = 79
FENCED_INSTANCE_ID = 82

# A new group waits group.initial.rebalance.delay.ms; keep the tests fast.
PROPS = {"group.initial.rebalance.delay.ms": "0"}


def subscription(*topics):
    """ConsumerProtocolSubscription v0: version, topics, user data."""
    out = struct.pack(">hi", 0, len(topics))
    for t in topics:
        out += struct.pack(">h", len(t)) + t.encode()
    return out + struct.pack(">i", -1)


def join_body(group, member="", protocols=(("range", b"m"),), session=10000, rebalance=10000,
              instance=None):
    return {"GroupId": group, "SessionTimeoutMs": session, "RebalanceTimeoutMs": rebalance,
            "MemberId": member, "GroupInstanceId": instance, "ProtocolType": "consumer",
            "Protocols": [{"Name": n, "Metadata": m} for n, m in protocols], "Reason": None}


def join(conn, group, version=5, **kw):
    return conn.request("JoinGroup", version, join_body(group, **kw))


def join_new(conn, group, version=5, **kw):
    """Join as a new member, following MEMBER_ID_REQUIRED when the version has it."""
    r = join(conn, group, version, **kw)
    if r["ErrorCode"] == MEMBER_ID_REQUIRED:
        r = join(conn, group, version, member=r["MemberId"], **kw)
    return r


def sync(conn, group, gen, member, assignments=(), version=3):
    return conn.request("SyncGroup", version, {
        "GroupId": group, "GenerationId": gen, "MemberId": member, "GroupInstanceId": None,
        "ProtocolType": "consumer", "ProtocolName": "range",
        "Assignments": [{"MemberId": m, "Assignment": a} for m, a in assignments]})


def heartbeat(conn, group, gen, member, version=3):
    return conn.request("Heartbeat", version, {"GroupId": group, "GenerationId": gen, "MemberId": member,
                                               "GroupInstanceId": None})["ErrorCode"]


def commit(conn, group, topic, offsets, gen=-1, member="", version=7):
    return conn.request("OffsetCommit", version, {
        "GroupId": group, "GenerationIdOrMemberEpoch": gen, "MemberId": member, "GroupInstanceId": None,
        "RetentionTimeMs": -1,
        "Topics": [{"Name": topic, "Partitions": [
            {"PartitionIndex": p, "CommittedOffset": o, "CommittedLeaderEpoch": -1,
             "CommitTimestamp": -1, "CommittedMetadata": "m%d" % p} for p, o in offsets]}]})


def fetch_offsets(conn, group, topic, partitions, version=7):
    r = conn.request("OffsetFetch", version, {
        "GroupId": group, "Topics": [{"Name": topic, "PartitionIndexes": list(partitions)}],
        "RequireStable": False})
    assert r.get("ErrorCode", 0) == 0
    return {p["PartitionIndex"]: p["CommittedOffset"] for t in r["Topics"] for p in t["Partitions"]}


def make_topic(conn, name, partitions=3):
    r = kwire.create_topics(conn, [(name, partitions, None)])
    assert list(r.values())[0][0] in (0, kwire.TOPIC_ALREADY_EXISTS)


def test_find_coordinator_creates_offsets_topic(broker):
    b = broker(PROPS)
    with kwire.Conn(b.bootstrap) as c:
        r = c.request("FindCoordinator", 0, {"Key": "g1"})
        assert r["ErrorCode"] == 0 and r["Port"] == b.port
        r = c.request("FindCoordinator", 4, {"KeyType": 0, "CoordinatorKeys": ["a", "b", ""]})
        assert [x["ErrorCode"] for x in r["Coordinators"]] == [0, 0, 24]
        md = kwire.metadata(c, ["__consumer_offsets"])
        t = md["Topics"][0]
        assert t["ErrorCode"] == 0 and t["IsInternal"] and len(t["Partitions"]) == 50


def test_member_id_required_v4_and_single_member_rebalance(broker):
    b = broker(PROPS)
    with kwire.Conn(b.bootstrap) as c:
        r = join(c, "g", version=4)
        assert r["ErrorCode"] == MEMBER_ID_REQUIRED and r["MemberId"].startswith("kwire-")
        mid = r["MemberId"]
        r = join(c, "g", version=4, member=mid)
        assert r["ErrorCode"] == 0 and r["MemberId"] == mid and r["Leader"] == mid
        assert r["GenerationId"] == 1 and r["ProtocolName"] == "range"
        assert [m["MemberId"] for m in r["Members"]] == [mid]
        s = sync(c, "g", 1, mid, [(mid, b"assignment-bytes")])
        assert s["ErrorCode"] == 0 and s["Assignment"] == b"assignment-bytes"
        assert heartbeat(c, "g", 1, mid) == 0
        assert heartbeat(c, "g", 0, mid) == ILLEGAL_GENERATION
        assert heartbeat(c, "g", 1, "nobody") == UNKNOWN_MEMBER_ID
        assert heartbeat(c, "nogroup", 1, mid) == UNKNOWN_MEMBER_ID
        d = c.request("DescribeGroups", 5, {"Groups": ["g", "missing"], "IncludeAuthorizedOperations": False})
        g, missing = d["Groups"]
        assert g["GroupState"] == "Stable" and g["ProtocolData"] == "range"
        assert g["Members"][0]["MemberAssignment"] == b"assignment-bytes"
        assert missing["GroupState"] == "Dead" and missing["ErrorCode"] == 0
        lg = c.request("ListGroups", 4, {"StatesFilter": ["stable"]})
        assert [x["GroupId"] for x in lg["Groups"]] == ["g"]
        lg = c.request("ListGroups", 4, {"StatesFilter": ["Empty"]})
        assert lg["Groups"] == []
        r = c.request("LeaveGroup", 4, {"GroupId": "g", "Members": [
            {"MemberId": mid, "GroupInstanceId": None}, {"MemberId": "ghost", "GroupInstanceId": None}]})
        assert [m["ErrorCode"] for m in r["Members"]] == [0, UNKNOWN_MEMBER_ID]
        d = c.request("DescribeGroups", 0, {"Groups": ["g"]})
        assert d["Groups"][0]["GroupState"] == "Empty"


def test_old_versions_get_member_id_in_first_join(broker):
    b = broker(PROPS)
    with kwire.Conn(b.bootstrap) as c:
        for v in (0, 1, 2, 3):
            g = "old-%d" % v
            r = join(c, g, version=v)
            assert r["ErrorCode"] == 0, v
            assert r["MemberId"] and r["Leader"] == r["MemberId"] and r["GenerationId"] == 1
        r = join(c, "old-x", version=1, session=10)
        assert r["ErrorCode"] == INVALID_SESSION_TIMEOUT
        r = join(c, "old-0", version=1, member="stranger")
        assert r["ErrorCode"] == UNKNOWN_MEMBER_ID


def test_two_members_rebalance_and_errors(broker):
    b = broker(PROPS)
    with kwire.Conn(b.bootstrap) as c1, kwire.Conn(b.bootstrap) as c2:
        a = join_new(c1, "g2")
        m1 = a["MemberId"]
        assert a["GenerationId"] == 1
        assert sync(c1, "g2", 1, m1, [(m1, b"x")])["ErrorCode"] == 0
        # A second member with an incompatible protocol is refused.
        r = join(c2, "g2", protocols=(("other", b""),))
        assert r["ErrorCode"] == INCONSISTENT_GROUP_PROTOCOL
        # A compatible one starts a rebalance: the first member hears about it by heartbeat.
        r = join(c2, "g2", protocols=(("roundrobin", b""), ("range", b"")))
        assert r["ErrorCode"] == MEMBER_ID_REQUIRED
        m2 = r["MemberId"]
        c2.send("JoinGroup", 5, join_body("g2", member=m2, protocols=(("roundrobin", b""), ("range", b""))))
        time.sleep(0.3)
        assert heartbeat(c1, "g2", 1, m1) == REBALANCE_IN_PROGRESS
        r1 = join(c1, "g2", member=m1)
        _, r2 = c2.recv()
        assert r1["ErrorCode"] == 0 and r2["ErrorCode"] == 0
        assert r1["GenerationId"] == r2["GenerationId"] == 2
        assert r1["ProtocolName"] == r2["ProtocolName"] == "range"
        assert r1["Leader"] == m1 and len(r1["Members"]) == 2 and r2["Members"] == []
        # The follower's SyncGroup waits for the leader's assignment.
        c2.send("SyncGroup", 3, {"GroupId": "g2", "GenerationId": 2, "MemberId": m2, "GroupInstanceId": None,
                                 "Assignments": []})
        time.sleep(0.2)
        s1 = sync(c1, "g2", 2, m1, [(m1, b"one"), (m2, b"two")])
        _, s2 = c2.recv()
        assert s1["Assignment"] == b"one" and s2["Assignment"] == b"two"
        assert sync(c1, "g2", 1, m1)["ErrorCode"] == ILLEGAL_GENERATION
        # DeleteGroups refuses a group with members.
        d = c1.request("DeleteGroups", 2, {"GroupsNames": ["g2", "nope"]})
        assert [x["ErrorCode"] for x in d["Results"]] == [NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND]


def test_static_member_fencing(broker):
    b = broker(PROPS)
    with kwire.Conn(b.bootstrap) as c:
        r = join(c, "gs", version=5, instance="inst-1")
        assert r["ErrorCode"] == 0
        old = r["MemberId"]
        assert sync(c, "gs", r["GenerationId"], old, [(old, b"A")])["ErrorCode"] == 0
        # A restart of the same instance takes over; the old member id is fenced.
        r2 = join(c, "gs", version=5, instance="inst-1")
        assert r2["ErrorCode"] == 0 and r2["MemberId"] != old
        hb = c.request("Heartbeat", 3, {"GroupId": "gs", "GenerationId": r2["GenerationId"], "MemberId": old,
                                        "GroupInstanceId": "inst-1"})
        assert hb["ErrorCode"] == FENCED_INSTANCE_ID


def test_offset_commit_fetch_roundtrip_and_restart(broker):
    b = broker(PROPS)
    with kwire.Conn(b.bootstrap) as c:
        make_topic(c, "t", 3)
        r = commit(c, "og", "t", [(0, 10), (1, 20), (7, 5)])
        errs = [p["ErrorCode"] for p in r["Topics"][0]["Partitions"]]
        assert errs == [0, 0, kwire.UNKNOWN_TOPIC_OR_PARTITION]
        for v in (1, 2, 5, 7):
            assert fetch_offsets(c, "og", "t", [0, 1, 2], version=v) == {0: 10, 1: 20, 2: -1}
        # v8: several groups in one request; a null topic list means every commit.
        commit(c, "og2", "t", [(2, 99)], version=8)
        r = c.request("OffsetFetch", 8, {"Groups": [
            {"GroupId": "og", "Topics": None}, {"GroupId": "og2", "Topics": [{"Name": "t", "PartitionIndexes": [2]}]},
            {"GroupId": "none", "Topics": None}], "RequireStable": False})
        got = {g["GroupId"]: {(t["Name"], p["PartitionIndex"]): (p["CommittedOffset"], p["Metadata"])
                              for t in g["Topics"] for p in t["Partitions"]} for g in r["Groups"]}
        assert got == {"og": {("t", 0): (10, "m0"), ("t", 1): (20, "m1")}, "og2": {("t", 2): (99, "m2")},
                       "none": {}}
        # A stale generation on a group that does not use group management.
        r = commit(c, "og", "t", [(0, 11)], gen=3, member="x")
        assert r["Topics"][0]["Partitions"][0]["ErrorCode"] == UNKNOWN_MEMBER_ID
        # OffsetDelete, then DeleteGroups of an empty group.
        r = c.request("OffsetDelete", 0, {"GroupId": "og", "Topics": [{"Name": "t", "Partitions": [
            {"PartitionIndex": 1}]}]})
        assert r["ErrorCode"] == 0 and r["Topics"][0]["Partitions"][0]["ErrorCode"] == 0
        d = c.request("DeleteGroups", 1, {"GroupsNames": ["og2"]})
        assert d["Results"][0]["ErrorCode"] == 0
    b.restart()
    with kwire.Conn(b.bootstrap) as c:
        assert fetch_offsets(c, "og", "t", [0, 1]) == {0: 10, 1: -1}
        assert fetch_offsets(c, "og2", "t", [2]) == {2: -1}
        lg = c.request("ListGroups", 3, {})
        assert [x["GroupId"] for x in lg["Groups"]] == ["og"]
    b.kill9()
    b.start()
    with kwire.Conn(b.bootstrap) as c:
        assert fetch_offsets(c, "og", "t", [0]) == {0: 10}


def test_group_membership_survives_restart(broker):
    b = broker(PROPS)
    with kwire.Conn(b.bootstrap) as c:
        r = join_new(c, "pg")
        mid, gen = r["MemberId"], r["GenerationId"]
        assert sync(c, "pg", gen, mid, [(mid, b"mine")])["ErrorCode"] == 0
    b.restart()
    with kwire.Conn(b.bootstrap) as c:
        d = c.request("DescribeGroups", 5, {"Groups": ["pg"], "IncludeAuthorizedOperations": False})
        g = d["Groups"][0]
        assert g["GroupState"] == "Stable" and g["Members"][0]["MemberId"] == mid
        assert g["Members"][0]["MemberAssignment"] == b"mine"
        assert heartbeat(c, "pg", gen, mid) == 0
        s = sync(c, "pg", gen, mid)
        assert s["ErrorCode"] == 0 and s["Assignment"] == b"mine"


def test_bad_group_input_gets_errors(broker):
    b = broker(PROPS)
    with kwire.Conn(b.bootstrap) as c:
        r = join(c, "big", protocols=(("range", b"x" * (2 << 20)),))
        assert r["ErrorCode"] == kwire.INVALID_REQUEST
        r = join(c, "", version=5)
        assert r["ErrorCode"] == 24
        r = c.request("SyncGroup", 3, {"GroupId": "nope", "GenerationId": 1, "MemberId": "m",
                                       "GroupInstanceId": None, "Assignments": []})
        assert r["ErrorCode"] == UNKNOWN_MEMBER_ID
        r = c.request("LeaveGroup", 1, {"GroupId": "nope", "MemberId": "m"})
        assert r["ErrorCode"] == UNKNOWN_MEMBER_ID
        r = c.request("OffsetDelete", 0, {"GroupId": "nope", "Topics": []})
        assert r["ErrorCode"] == GROUP_ID_NOT_FOUND
        # The broker is still alive and serving.
        assert c.request("FindCoordinator", 1, {"Key": "x", "KeyType": 0})["ErrorCode"] == 0
