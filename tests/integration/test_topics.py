"""CreateTopics / DeleteTopics: raw error codes, librdkafka admin, kafka-python admin."""

import pytest
from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient, NewTopic

import helpers
import kwire


def topic_names(bootstrap):
    with kwire.Conn(bootstrap) as c:
        return {t["Name"] for t in kwire.metadata(c, None)["Topics"]}


def test_admin_create_and_delete(shared_broker, topic_name):
    admin = AdminClient({"bootstrap.servers": shared_broker.bootstrap})
    a, b = topic_name("-a"), topic_name("-b")
    futures = admin.create_topics([NewTopic(a, 3, 1), NewTopic(b, 1, 1, config={"retention.ms": "3600000"})],
                                  operation_timeout=10)
    for name, f in futures.items():
        assert f.result(timeout=15) is None, name
    md = admin.list_topics(timeout=10)
    assert len(md.topics[a].partitions) == 3 and len(md.topics[b].partitions) == 1

    for name, f in admin.delete_topics([a], operation_timeout=10).items():
        assert f.result(timeout=15) is None, name
    helpers.wait_until(lambda: a not in topic_names(shared_broker.bootstrap), timeout=10,
                       what="deleted topic to leave metadata")
    assert b in topic_names(shared_broker.bootstrap)


@pytest.mark.parametrize("version", [0, 1, 2, 3, 4, 5])
def test_create_topics_every_version(shared_broker, topic_name, version):
    t = topic_name()
    with kwire.Conn(shared_broker.bootstrap) as c:
        assert kwire.create_topics(c, [(t, 2, None)], version=version)[t][0] == kwire.NONE
        assert kwire.create_topics(c, [(t, 2, None)], version=version)[t][0] == kwire.TOPIC_ALREADY_EXISTS
        dv = min(version, 4)
        assert kwire.delete_topics(c, [t], version=dv)[t] == kwire.NONE


def test_validate_only_creates_nothing(shared_broker, topic_name):
    t = topic_name()
    with kwire.Conn(shared_broker.bootstrap) as c:
        err, msg = kwire.create_topics(c, [(t, 3, {"retention.ms": "1000"})], validate_only=True)[t]
        assert err == kwire.NONE, msg
    assert t not in topic_names(shared_broker.bootstrap), "validate_only must not create the topic"
    # Validation still checks: an existing topic is reported as such.
    existing = helpers.create_topic(shared_broker.bootstrap, topic_name())
    with kwire.Conn(shared_broker.bootstrap) as c:
        assert kwire.create_topics(c, [(existing, 1, None)], validate_only=True)[existing][0] == \
            kwire.TOPIC_ALREADY_EXISTS
    # And through librdkafka.
    admin = AdminClient({"bootstrap.servers": shared_broker.bootstrap})
    t2 = topic_name()
    for f in admin.create_topics([NewTopic(t2, 1, 1)], validate_only=True, operation_timeout=10).values():
        assert f.result(timeout=15) is None
    assert t2 not in topic_names(shared_broker.bootstrap)


def test_existing_topic_gets_topic_already_exists(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), partitions=2)
    with kwire.Conn(shared_broker.bootstrap) as c:
        assert kwire.create_topics(c, [(t, 5, None)])[t][0] == kwire.TOPIC_ALREADY_EXISTS
        md = kwire.metadata(c, [t])["Topics"][0]
        assert len(md["Partitions"]) == 2, "the failed create must not change the topic"
    admin = AdminClient({"bootstrap.servers": shared_broker.bootstrap})
    f = admin.create_topics([NewTopic(t, 1, 1)], operation_timeout=10)[t]
    with pytest.raises(Exception) as e:
        f.result(timeout=15)
    assert e.value.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS


@pytest.mark.parametrize("name", ["", "has space", "slash/name", "star*", ".", "..", "x" * 250, "ünïcode"],
                         ids=["empty", "space", "slash", "star", "dot", "dotdot", "250-chars", "non-ascii"])
def test_invalid_topic_name(shared_broker, name):
    with kwire.Conn(shared_broker.bootstrap) as c:
        err, msg = kwire.create_topics(c, [(name, 1, None)])[name]
    assert err == kwire.INVALID_TOPIC_EXCEPTION, "name %r: error %d (%s)" % (name, err, msg)
    assert name not in topic_names(shared_broker.bootstrap)


@pytest.mark.parametrize("config", [
    {"retention.ms": "not-a-number"},
    {"no.such.config": "1"},
    {"cleanup.policy": "shred"},
    {"segment.bytes": "-5"},
    {"compression.type": "brotli"},
])
def test_bad_config_gets_invalid_config(shared_broker, topic_name, config):
    t = topic_name()
    with kwire.Conn(shared_broker.bootstrap) as c:
        err, msg = kwire.create_topics(c, [(t, 1, config)])[t]
    assert err == kwire.INVALID_CONFIG, "config %r: error %d (%s)" % (config, err, msg)
    assert t not in topic_names(shared_broker.bootstrap)


def test_one_bad_topic_does_not_spoil_the_batch(shared_broker, topic_name):
    good, bad = topic_name("-good"), "bad name"
    with kwire.Conn(shared_broker.bootstrap) as c:
        res = kwire.create_topics(c, [(good, 1, None), (bad, 1, None)])
    assert res[good][0] == kwire.NONE and res[bad][0] == kwire.INVALID_TOPIC_EXCEPTION, res
    assert good in topic_names(shared_broker.bootstrap)


def test_delete_unknown_topic(shared_broker):
    with kwire.Conn(shared_broker.bootstrap) as c:
        for version in (1, 3, 4):
            assert kwire.delete_topics(c, ["never-created"], version=version)["never-created"] == \
                kwire.UNKNOWN_TOPIC_OR_PARTITION
    admin = AdminClient({"bootstrap.servers": shared_broker.bootstrap})
    f = admin.delete_topics(["never-created"], operation_timeout=10)["never-created"]
    with pytest.raises(Exception) as e:
        f.result(timeout=15)
    assert e.value.args[0].code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_recreated_topic_starts_empty(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    helpers.produce_all(shared_broker.bootstrap, t, [{"value": b"old-%d" % i} for i in range(20)])
    assert helpers.latest_offset(shared_broker.bootstrap, t) == 20
    with kwire.Conn(shared_broker.bootstrap) as c:
        assert kwire.delete_topics(c, [t])[t] == kwire.NONE
    helpers.wait_until(lambda: t not in topic_names(shared_broker.bootstrap), timeout=10, what="topic deletion")

    def recreate():
        with kwire.Conn(shared_broker.bootstrap) as c:
            return kwire.create_topics(c, [(t, 1, None)])[t][0] == kwire.NONE
    # Kafka may briefly refuse to recreate while deletion finishes; allow a bounded retry.
    helpers.wait_until(recreate, timeout=15, interval=0.5, what="re-creation of a deleted topic")
    assert helpers.latest_offset(shared_broker.bootstrap, t) == 0
    assert helpers.fetch_all_raw(shared_broker.bootstrap, t) == []


def test_kafka_python_admin(shared_broker, topic_name):
    kafka = pytest.importorskip("kafka")
    from kafka.admin import NewTopic as KNewTopic
    t = topic_name()
    admin = kafka.KafkaAdminClient(bootstrap_servers=shared_broker.bootstrap, request_timeout_ms=10000)
    try:
        resp = admin.create_topics([KNewTopic(t, 2, 1)], timeout_ms=10000)
        assert all(e[1] == 0 for e in resp.topic_errors), resp
        assert t in topic_names(shared_broker.bootstrap)
        resp = admin.delete_topics([t], timeout_ms=10000)
        assert all(e[1] == 0 for e in resp.topic_error_codes), resp
    finally:
        admin.close()
    helpers.wait_until(lambda: t not in topic_names(shared_broker.bootstrap), timeout=10, what="topic deletion")
