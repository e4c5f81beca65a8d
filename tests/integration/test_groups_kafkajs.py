"""Consumer groups with kafkajs 2.2.4 (JoinGroup v5, SyncGroup/Heartbeat v3,
LeaveGroup v3, OffsetCommit v5, OffsetFetch v4): members are node processes
running tests/js/group_member.js; the admin view comes from tests/js/group_admin.js."""

import os
import shutil

import pytest

import group_helpers as gh
import helpers
from group_helpers import members  # noqa: F401  (fixture)

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="node not installed"),
    pytest.mark.skipif(not os.path.isdir(os.path.join(helpers.JS_DIR, "node_modules", "kafkajs")),
                       reason="kafkajs not installed (run scripts/deps.sh)"),
]

BROKER_PROPS = dict(gh.GROUP_BROKER_PROPS)


@pytest.fixture(autouse=True)
def _group_apis(shared_broker):
    gh.require_group_apis(shared_broker.bootstrap)

# kafkajs names its round-robin assigner's protocol "RoundRobinAssigner".
PROTOCOL = "RoundRobinAssigner"


def test_kafkajs_group_leave_kill_join(shared_broker, topic_name, members):
    """Three kafkajs members consume a 6-partition topic end to end while one
    leaves, one is killed and one joins. kafkajs reports commits only when
    they succeed, so redeliveries are checked against acknowledged commits."""
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=6)
    gh.leave_kill_join_scenario(bs, t, "kafkajs", members, "g-" + t, protocol=PROTOCOL, check_commits=False)


def test_kafkajs_admin_view_of_groups(shared_broker, topic_name, members):
    bs = shared_broker.bootstrap
    t = helpers.create_topic(bs, topic_name(), partitions=4)
    g = "g-" + t
    tps = gh.all_tps({t: 4})
    produced = gh.produce_batch(bs, t, 4, 40)
    a = members.start("kafkajs", bs, g, [t], "js-a")
    b = members.start("kafkajs", bs, g, [t], "js-b")
    snap = gh.wait_settled([a, b], tps)
    gh.wait_all_consumed([a, b], produced)
    gh.assert_describe_matches(bs, g, snap, protocol=PROTOCOL, topics=[t])

    out = helpers.run_js("group_admin.js", bs, "describe", g)
    [d] = out["groups"]
    assert (d["groupId"], d["state"], d["protocolType"], d["protocol"], d["errorCode"]) == \
        (g, "Stable", "consumer", PROTOCOL, 0), d
    assert {m["clientId"]: {tuple(x) for x in m["assignment"]} for m in d["members"]} == snap
    assert all(m["topics"] == [t] and m["memberId"] for m in d["members"]), d["members"]
    listed = helpers.run_js("group_admin.js", bs, "list", g)["groups"]
    assert {"groupId": g, "protocolType": "consumer"} in listed, listed

    out = helpers.run_js("group_admin.js", bs, "delete", g)
    assert out["deleted"] is None and [(x["groupId"], x["errorCode"]) for x in out["groups"]] == \
        [(g, gh.NON_EMPTY_GROUP)], out

    a.stop()
    b.stop()
    gh.wait_group_state(bs, g, "Empty")
    offs = helpers.run_js("group_admin.js", bs, "offsets", g, t)["offsets"]
    assert [x["topic"] for x in offs] == [t], offs
    assert sorted((p["partition"], p["offset"]) for p in offs[0]["partitions"]) == [(p, "10") for p in range(4)], offs
    assert gh.offset_fetch(bs, g, t, range(4)) == {p: (10, 0) for p in range(4)}

    out = helpers.run_js("group_admin.js", bs, "delete", g)
    assert out["errors"] == [] and out["deleted"] and out["deleted"][0]["groupId"] == g, out
    assert gh.describe_group(bs, g)["GroupState"] == "Dead"
    assert gh.offset_fetch(bs, g, t, range(4)) == {p: (-1, 0) for p in range(4)}
    assert gh.assert_delivery([a, b], produced) == [], "redelivered without any crash"
