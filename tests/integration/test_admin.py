"""Admin APIs: configs (describe, alter, incremental, dynamic broker configs), partitions
(create, delete records, elect leaders, reassignments) and cluster (describe cluster,
log dirs), through librdkafka's AdminClient, kafka-python's KafkaAdminClient and raw
kwire frames; changes must take effect at once and survive a restart."""

import time

import pytest
from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewPartitions

import helpers
import kwire

kwire.API_KEYS.update({"DeleteRecords": 21, "DescribeConfigs": 32, "AlterConfigs": 33,
                       "DescribeLogDirs": 35, "CreatePartitions": 37, "ElectLeaders": 43,
                       "IncrementalAlterConfigs": 44, "AlterPartitionReassignments": 45,
                       "ListPartitionReassignments": 46, "DescribeCluster": 60})

TOPIC, BROKER = 2, 4
SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
SRC_TOPIC, SRC_DYN_BROKER, SRC_DYN_DEFAULT, SRC_STATIC, SRC_DEFAULT = 1, 2, 3, 4, 5
INVALID_REPLICA_ASSIGNMENT = 39
POLICY_VIOLATION = 44
ELECTION_NOT_NEEDED = 84
NO_REASSIGNMENT_IN_PROGRESS = 85


# ---------------------------------------------------------------- raw helpers

def describe(c, rtype, name, keys=None, version=4, synonyms=True):
    body = {"Resources": [{"ResourceType": rtype, "ResourceName": name, "ConfigurationKeys": keys}],
            "IncludeSynonyms": synonyms, "IncludeDocumentation": True}
    r = c.request("DescribeConfigs", version, body)["Results"][0]
    return r["ErrorCode"], r["ErrorMessage"], {e["Name"]: e for e in r["Configs"]}


def incremental(c, rtype, name, ops, validate_only=False, version=1):
    body = {"Resources": [{"ResourceType": rtype, "ResourceName": name,
                           "Configs": [{"Name": k, "ConfigOperation": op, "Value": v} for k, op, v in ops]}],
            "ValidateOnly": validate_only}
    r = c.request("IncrementalAlterConfigs", version, body)["Responses"][0]
    return r["ErrorCode"], r["ErrorMessage"]


def alter(c, rtype, name, configs, validate_only=False, version=2):
    body = {"Resources": [{"ResourceType": rtype, "ResourceName": name,
                           "Configs": [{"Name": k, "Value": v} for k, v in configs.items()]}],
            "ValidateOnly": validate_only}
    r = c.request("AlterConfigs", version, body)["Responses"][0]
    return r["ErrorCode"], r["ErrorMessage"]


def create_partitions(c, topic, count, assignments=None, validate_only=False, version=3):
    body = {"Topics": [{"Name": topic, "Count": count, "Assignments": assignments}],
            "TimeoutMs": 10000, "ValidateOnly": validate_only}
    r = c.request("CreatePartitions", version, body)["Results"][0]
    return r["ErrorCode"], r["ErrorMessage"]


def delete_records(c, topic, partition, offset, version=2):
    body = {"Topics": [{"Name": topic, "Partitions": [{"PartitionIndex": partition, "Offset": offset}]}],
            "TimeoutMs": 10000}
    p = c.request("DeleteRecords", version, body)["Topics"][0]["Partitions"][0]
    return p["ErrorCode"], p["LowWatermark"]


def produce_n(bootstrap, topic, n, partition=0, size=10, ts=None):
    with kwire.Conn(bootstrap) as c:
        for i in range(n):
            p = kwire.produce(c, topic, partition, kwire.record_batch([(b"k", b"v" * size, [], ts)]))
            assert p["ErrorCode"] == 0, "produce error %d" % p["ErrorCode"]


def value(c, rtype, name, key):
    err, msg, cfg = describe(c, rtype, name, [key])
    assert err == 0, msg
    return cfg[key]


# ---------------------------------------------------------------- DescribeConfigs

def test_describe_topic_configs_librdkafka(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), config={"retention.ms": "3600000"})
    admin = AdminClient({"bootstrap.servers": shared_broker.bootstrap})
    res = ConfigResource("topic", t)
    cfg = admin.describe_configs([res])[res].result(timeout=15)
    assert cfg["retention.ms"].value == "3600000"
    assert cfg["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert cfg["segment.bytes"].value == "1073741824"
    assert cfg["segment.bytes"].source == ConfigSource.DEFAULT_CONFIG.value
    assert cfg["cleanup.policy"].value == "delete" and not cfg["cleanup.policy"].is_read_only
    assert "log.retention.hours" in cfg["retention.ms"].synonyms


@pytest.mark.parametrize("version", [0, 1, 2, 3, 4])
def test_describe_configs_every_version(shared_broker, topic_name, version):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), config={"max.message.bytes": "5000"})
    with kwire.Conn(shared_broker.bootstrap) as c:
        err, msg, cfg = describe(c, TOPIC, t, version=version)
        assert err == 0, msg
        assert cfg["max.message.bytes"]["Value"] == "5000"
        if version >= 1:
            assert cfg["max.message.bytes"]["ConfigSource"] == SRC_TOPIC
            syn = cfg["max.message.bytes"]["Synonyms"]
            assert syn[0] == {"Name": "max.message.bytes", "Value": "5000", "Source": SRC_TOPIC}
            assert {"Name": "message.max.bytes", "Value": "1048588", "Source": SRC_DEFAULT} in syn
        else:
            assert cfg["max.message.bytes"]["IsDefault"] is False
        if version >= 3:
            assert cfg["max.message.bytes"]["ConfigType"] == 3  # INT
            assert cfg["cleanup.policy"]["ConfigType"] == 7  # LIST
        # Only the asked-for keys, unknown ones are skipped.
        err, _, cfg = describe(c, TOPIC, t, ["retention.bytes", "no.such.key"], version=version)
        assert err == 0 and list(cfg) == ["retention.bytes"]


def test_describe_configs_errors(shared_broker):
    with kwire.Conn(shared_broker.bootstrap) as c:
        err, msg, _ = describe(c, TOPIC, "no-such-topic-here")
        assert err == kwire.UNKNOWN_TOPIC_OR_PARTITION and "does not exist" in msg
        err, msg, _ = describe(c, BROKER, "7")
        assert err == kwire.INVALID_REQUEST and "Unexpected broker id" in msg
        err, msg, _ = describe(c, BROKER, "x")
        assert err == kwire.INVALID_REQUEST
        err, msg, _ = describe(c, 99, "x")
        assert err == kwire.INVALID_REQUEST


def test_describe_broker_sources(broker):
    b = broker({"log.retention.hours": "100", "message.max.bytes": "2000000"})
    with kwire.Conn(b.bootstrap) as c:
        err, msg, cfg = describe(c, BROKER, "1")
        assert err == 0, msg
        assert cfg["log.retention.hours"]["Value"] == "100"
        assert cfg["log.retention.hours"]["ConfigSource"] == SRC_STATIC
        assert cfg["log.retention.hours"]["Synonyms"] == [
            {"Name": "log.retention.hours", "Value": "100", "Source": SRC_STATIC},
            {"Name": "log.retention.hours", "Value": "168", "Source": SRC_DEFAULT}]
        assert cfg["num.partitions"]["ConfigSource"] == SRC_STATIC
        assert cfg["log.segment.bytes"]["ConfigSource"] == SRC_DEFAULT
        assert cfg["log.dirs"]["ReadOnly"] and cfg["listeners"]["ReadOnly"] and cfg["node.id"]["ReadOnly"]
        assert not cfg["log.retention.ms"]["ReadOnly"] and not cfg["message.max.bytes"]["ReadOnly"]
        # A topic without overrides takes the static broker value.
        t = helpers.create_topic(b.bootstrap, "static-src")
        e = value(c, TOPIC, t, "max.message.bytes")
        assert e["Value"] == "2000000" and e["ConfigSource"] == SRC_STATIC
        assert value(c, TOPIC, t, "retention.ms")["Value"] == str(100 * 3600 * 1000)
        # The cluster-default resource lists only dynamic defaults: none yet.
        err, _, cfg = describe(c, BROKER, "")
        assert err == 0 and cfg == {}


def test_kafka_python_describe_and_alter(shared_broker, topic_name):
    from kafka.admin import ConfigResource as KConfigResource, ConfigResourceType, KafkaAdminClient
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    admin = KafkaAdminClient(bootstrap_servers=shared_broker.bootstrap)
    try:
        resp = admin.alter_configs([KConfigResource(ConfigResourceType.TOPIC, t, configs={"retention.ms": "7200000"})])
        assert resp.resources[0][0] == 0, resp
        resp = admin.describe_configs([KConfigResource(ConfigResourceType.TOPIC, t)])
        entries = {e[0]: e[1] for e in resp[0].resources[0][4]}
        assert entries["retention.ms"] == "7200000"
        resp = admin.describe_configs([KConfigResource(ConfigResourceType.BROKER, "1")])
        entries = {e[0]: e[1] for e in resp[0].resources[0][4]}
        assert entries["num.partitions"] == "1"
    finally:
        admin.close()


# ---------------------------------------------------------------- AlterConfigs / IncrementalAlterConfigs

def test_alter_configs_librdkafka_replaces_all(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), config={"retention.ms": "3600000"})
    admin = AdminClient({"bootstrap.servers": shared_broker.bootstrap})
    res = ConfigResource("topic", t, set_config={"segment.bytes": "1000000"})
    assert admin.alter_configs([res])[res].result(timeout=15) is None
    with kwire.Conn(shared_broker.bootstrap) as c:
        assert value(c, TOPIC, t, "segment.bytes")["Value"] == "1000000"
        # AlterConfigs replaces the whole set: the old override is gone.
        e = value(c, TOPIC, t, "retention.ms")
        assert e["Value"] == "604800000" and e["ConfigSource"] == SRC_DEFAULT
    bad = ConfigResource("topic", t, set_config={"segment.bytes": "soon"})
    with pytest.raises(Exception) as ei:
        admin.alter_configs([bad])[bad].result(timeout=15)
    assert ei.value.args[0].code() == KafkaError.INVALID_CONFIG


def test_alter_configs_errors(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    with kwire.Conn(shared_broker.bootstrap) as c:
        for version in (0, 1, 2):
            assert alter(c, TOPIC, t, {"retention.ms": "1234"}, version=version) == (0, None)
        err, msg = alter(c, TOPIC, t, {"retention.ms": "abc"})
        assert err == kwire.INVALID_CONFIG and msg == \
            "Invalid value abc for configuration retention.ms: Not a number of type LONG"
        err, msg = alter(c, TOPIC, t, {"no.such.config": "1"})
        assert err == kwire.INVALID_CONFIG and msg == "Unknown topic config name: no.such.config"
        err, msg = alter(c, TOPIC, t, {"retention.ms": None})
        assert err == kwire.INVALID_REQUEST
        err, _ = alter(c, TOPIC, "missing-topic-x", {"retention.ms": "1"})
        assert err == kwire.UNKNOWN_TOPIC_OR_PARTITION
        err, _ = alter(c, 16, "x", {"a": "1"})
        assert err == kwire.INVALID_REQUEST
        # validate_only checks and changes nothing.
        assert alter(c, TOPIC, t, {"retention.ms": "999"}, validate_only=True) == (0, None)
        assert value(c, TOPIC, t, "retention.ms")["Value"] == "1234"


@pytest.mark.parametrize("version", [0, 1])
def test_incremental_alter_ops(shared_broker, topic_name, version):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), config={"retention.bytes": "100000"})
    with kwire.Conn(shared_broker.bootstrap) as c:
        assert incremental(c, TOPIC, t, [("retention.ms", SET, "60000")], version=version) == (0, None)
        assert value(c, TOPIC, t, "retention.ms")["Value"] == "60000"
        assert value(c, TOPIC, t, "retention.bytes")["Value"] == "100000", "SET keeps other overrides"
        assert incremental(c, TOPIC, t, [("retention.bytes", DELETE, None)], version=version) == (0, None)
        assert value(c, TOPIC, t, "retention.bytes")["ConfigSource"] == SRC_DEFAULT
        # List configs: APPEND starts from the default ("delete"), SUBTRACT removes items.
        assert incremental(c, TOPIC, t, [("cleanup.policy", APPEND, "compact")], version=version)[0] == 0
        assert value(c, TOPIC, t, "cleanup.policy")["Value"] == "delete,compact"
        assert incremental(c, TOPIC, t, [("cleanup.policy", SUBTRACT, "delete")], version=version)[0] == 0
        assert value(c, TOPIC, t, "cleanup.policy")["Value"] == "compact"
        err, msg = incremental(c, TOPIC, t, [("cleanup.policy", SUBTRACT, "compact")], version=version)
        assert err == kwire.INVALID_CONFIG and "Empty list" in msg
        err, msg = incremental(c, TOPIC, t, [("retention.ms", APPEND, "1")], version=version)
        assert err == kwire.INVALID_CONFIG and "append is not allowed" in msg
        err, msg = incremental(c, TOPIC, t, [("retention.ms", SET, "-5")], version=version)
        assert err == kwire.INVALID_CONFIG and "retention.ms" in msg
        err, msg = incremental(c, TOPIC, t, [("bogus", SET, "1")], version=version)
        assert err == kwire.INVALID_CONFIG and msg == "Unknown topic config name: bogus"
        err, _ = incremental(c, TOPIC, t, [("retention.ms", 9, "1")], version=version)
        assert err == kwire.INVALID_REQUEST
        err, _ = incremental(c, TOPIC, t, [("retention.ms", SET, "1"), ("retention.ms", SET, "2")])
        assert err == kwire.INVALID_REQUEST
        assert incremental(c, TOPIC, t, [("retention.ms", SET, "5")], validate_only=True) == (0, None)
        assert value(c, TOPIC, t, "retention.ms")["Value"] == "60000"
        err, _ = incremental(c, TOPIC, "nope-not-here", [("retention.ms", SET, "5")])
        assert err == kwire.UNKNOWN_TOPIC_OR_PARTITION


def test_max_message_bytes_takes_effect(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    with kwire.Conn(shared_broker.bootstrap) as c:
        batch = kwire.record_batch([(b"k", b"x" * 3000, [], None)])
        assert kwire.produce(c, t, 0, batch)["ErrorCode"] == 0
        assert incremental(c, TOPIC, t, [("max.message.bytes", SET, "1000")]) == (0, None)
        batch = kwire.record_batch([(b"k", b"x" * 3000, [], None)])
        assert kwire.produce(c, t, 0, batch)["ErrorCode"] == kwire.MESSAGE_TOO_LARGE


def test_segment_and_retention_take_effect(broker, topic_name):
    b = broker({"log.retention.check.interval.ms": "300", "log.segment.delete.delay.ms": "0"})
    t = helpers.create_topic(b.bootstrap, topic_name())
    old = int(time.time() * 1000) - 2 * 3600 * 1000
    produce_n(b.bootstrap, t, 5, size=500, ts=old)
    assert len(b.segments(t, 0)) == 1
    with kwire.Conn(b.bootstrap) as c:
        assert incremental(c, TOPIC, t, [("segment.bytes", SET, "2000")]) == (0, None)
    produce_n(b.bootstrap, t, 10, size=500, ts=old)
    assert len(b.segments(t, 0)) >= 3, b.segments(t, 0)
    end = helpers.latest_offset(b.bootstrap, t)
    with kwire.Conn(b.bootstrap) as c:
        assert incremental(c, TOPIC, t, [("retention.ms", SET, "60000")]) == (0, None)
    helpers.wait_until(lambda: helpers.earliest_offset(b.bootstrap, t) > 0, timeout=20,
                       what="retention to delete old segments after lowering retention.ms")
    assert helpers.latest_offset(b.bootstrap, t) == end


# ---------------------------------------------------------------- dynamic broker configs

def test_dynamic_broker_configs(broker, topic_name):
    b = broker({"log.retention.check.interval.ms": "300", "log.segment.delete.delay.ms": "0"})
    plain = helpers.create_topic(b.bootstrap, topic_name("-plain"))
    own = helpers.create_topic(b.bootstrap, topic_name("-own"), config={"segment.bytes": "1000000"})
    with kwire.Conn(b.bootstrap) as c:
        # Cluster default, then this node on top.
        assert incremental(c, BROKER, "", [("log.segment.bytes", SET, "3000")]) == (0, None)
        e = value(c, BROKER, "1", "log.segment.bytes")
        assert e["Value"] == "3000" and e["ConfigSource"] == SRC_DYN_DEFAULT
        assert incremental(c, BROKER, "1", [("log.segment.bytes", SET, "2500")]) == (0, None)
        e = value(c, BROKER, "1", "log.segment.bytes")
        assert e["Value"] == "2500" and e["ConfigSource"] == SRC_DYN_BROKER
        assert [(s["Value"], s["Source"]) for s in e["Synonyms"]] == [
            ("2500", SRC_DYN_BROKER), ("3000", SRC_DYN_DEFAULT), ("1073741824", SRC_DEFAULT)]
        err, _, cfg = describe(c, BROKER, "")
        assert err == 0 and cfg["log.segment.bytes"]["Value"] == "3000"
        assert cfg["log.segment.bytes"]["ConfigSource"] == SRC_DYN_DEFAULT
        # Topics without an override follow at once; an override still wins.
        e = value(c, TOPIC, plain, "segment.bytes")
        assert e["Value"] == "2500" and e["ConfigSource"] == SRC_DYN_BROKER
        assert value(c, TOPIC, own, "segment.bytes")["Value"] == "1000000"
        # Read-only keys, other nodes, unknown keys and bad values are refused.
        err, msg = incremental(c, BROKER, "1", [("log.dirs", SET, "/tmp/x"), ("listeners", SET, "PLAINTEXT://:1")])
        assert err == kwire.INVALID_REQUEST and msg == "Cannot update these configs dynamically: [log.dirs, listeners]"
        err, msg = alter(c, BROKER, "1", {"node.id": "5"})
        assert err == kwire.INVALID_REQUEST and "node.id" in msg
        err, msg = incremental(c, BROKER, "2", [("log.retention.ms", SET, "1000")])
        assert err == kwire.INVALID_REQUEST and "Unexpected broker id" in msg
        err, msg = incremental(c, BROKER, "1", [("log.segment.bytes", SET, "big")])
        assert err == kwire.INVALID_REQUEST and "log.segment.bytes" in msg
        err, msg = incremental(c, BROKER, "1", [("no.such.broker.key", SET, "1")])
        assert err == kwire.INVALID_REQUEST
    produce_n(b.bootstrap, plain, 12, size=500)
    assert len(b.segments(plain, 0)) >= 3, "new log.segment.bytes must apply to the running log"
    produce_n(b.bootstrap, own, 12, size=500)
    assert len(b.segments(own, 0)) == 1

    b.restart()
    with kwire.Conn(b.bootstrap) as c:
        e = value(c, BROKER, "1", "log.segment.bytes")
        assert e["Value"] == "2500" and e["ConfigSource"] == SRC_DYN_BROKER
        assert value(c, TOPIC, plain, "segment.bytes")["Value"] == "2500"
        # Deleting the node's key falls back to the cluster default, then to the static value.
        assert incremental(c, BROKER, "1", [("log.segment.bytes", DELETE, None)]) == (0, None)
        assert value(c, TOPIC, plain, "segment.bytes")["Value"] == "3000"
        assert alter(c, BROKER, "", {}) == (0, None)
        e = value(c, TOPIC, plain, "segment.bytes")
        assert e["Value"] == "1073741824" and e["ConfigSource"] == SRC_DEFAULT
    b.restart()
    with kwire.Conn(b.bootstrap) as c:
        assert value(c, BROKER, "1", "log.segment.bytes")["ConfigSource"] == SRC_DEFAULT


def test_broker_default_max_message_bytes(broker, topic_name):
    b = broker()
    t = helpers.create_topic(b.bootstrap, topic_name())
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    res = ConfigResource("broker", "1", set_config={"message.max.bytes": "2000"})
    assert admin.alter_configs([res])[res].result(timeout=15) is None
    with kwire.Conn(b.bootstrap) as c:
        batch = kwire.record_batch([(b"k", b"x" * 4000, [], None)])
        assert kwire.produce(c, t, 0, batch)["ErrorCode"] == kwire.MESSAGE_TOO_LARGE
    cfg = admin.describe_configs([ConfigResource("broker", "1")])
    entry = list(cfg.values())[0].result(timeout=15)["message.max.bytes"]
    assert entry.value == "2000" and entry.source == ConfigSource.DYNAMIC_BROKER_CONFIG.value


def test_topic_configs_persist(broker, topic_name):
    b = broker()
    t = helpers.create_topic(b.bootstrap, topic_name())
    with kwire.Conn(b.bootstrap) as c:
        assert incremental(c, TOPIC, t, [("retention.ms", SET, "123456"), ("cleanup.policy", SET, "compact")]) \
            == (0, None)
    b.restart()
    with kwire.Conn(b.bootstrap) as c:
        assert value(c, TOPIC, t, "retention.ms")["Value"] == "123456"
        assert value(c, TOPIC, t, "cleanup.policy")["Value"] == "compact"


# ---------------------------------------------------------------- CreatePartitions

def test_create_partitions_librdkafka(broker, topic_name):
    b = broker()
    t = helpers.create_topic(b.bootstrap, topic_name())
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    fs = admin.create_partitions([NewPartitions(t, 3)], validate_only=True)
    assert fs[t].result(timeout=15) is None
    assert len(admin.list_topics(timeout=10).topics[t].partitions) == 1
    assert admin.create_partitions([NewPartitions(t, 3)])[t].result(timeout=15) is None
    assert len(admin.list_topics(timeout=10).topics[t].partitions) == 3
    produce_n(b.bootstrap, t, 2, partition=2)
    assert helpers.latest_offset(b.bootstrap, t, 2) == 2
    with pytest.raises(Exception) as ei:
        admin.create_partitions([NewPartitions(t, 2)])[t].result(timeout=15)
    assert ei.value.args[0].code() == KafkaError.INVALID_PARTITIONS
    assert "Topic currently has 3 partitions, which is higher than the requested 2." in str(ei.value)
    b.restart()
    assert helpers.latest_offset(b.bootstrap, t, 2) == 2
    with kwire.Conn(b.bootstrap) as c:
        assert len(kwire.metadata(c, [t])["Topics"][0]["Partitions"]) == 3


@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_create_partitions_raw(shared_broker, topic_name, version):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), partitions=2)
    with kwire.Conn(shared_broker.bootstrap) as c:
        err, msg = create_partitions(c, t, -1, version=version)
        assert err == kwire.INVALID_PARTITIONS and \
            msg == "Topic currently has 2 partitions, which is higher than the requested -1."
        assert create_partitions(c, t, 2, version=version)[0] == kwire.INVALID_PARTITIONS
        assert create_partitions(c, "missing-x", 3, version=version)[0] == kwire.UNKNOWN_TOPIC_OR_PARTITION
        err, _ = create_partitions(c, t, 4, [{"BrokerIds": [1]}], version=version)
        assert err == INVALID_REPLICA_ASSIGNMENT  # two partitions added, one assignment
        err, _ = create_partitions(c, t, 3, [{"BrokerIds": [2]}], version=version)
        assert err == INVALID_REPLICA_ASSIGNMENT
        assert create_partitions(c, t, 3, [{"BrokerIds": [1]}], version=version) == (0, None)
        assert len(kwire.metadata(c, [t])["Topics"][0]["Partitions"]) == 3


def test_kafka_python_create_partitions_and_cluster(shared_broker, topic_name):
    from kafka.admin import KafkaAdminClient, NewPartitions as KNewPartitions
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    admin = KafkaAdminClient(bootstrap_servers=shared_broker.bootstrap)
    try:
        resp = admin.create_partitions({t: KNewPartitions(4)})
        assert resp.topic_errors[0][1] == 0, resp
        cluster = admin.describe_cluster()
        assert cluster["controller_id"] == 1 and cluster["brokers"][0]["node_id"] == 1
    finally:
        admin.close()


# ---------------------------------------------------------------- DeleteRecords

@pytest.mark.parametrize("version", [0, 1, 2])
def test_delete_records(broker, topic_name, version):
    b = broker()
    t = helpers.create_topic(b.bootstrap, topic_name())
    produce_n(b.bootstrap, t, 10)
    with kwire.Conn(b.bootstrap) as c:
        assert delete_records(c, t, 0, 4, version) == (0, 4)
        assert delete_records(c, t, 0, 2, version) == (0, 4), "the log start never moves back"
        assert delete_records(c, t, 0, 11, version) == (kwire.OFFSET_OUT_OF_RANGE, -1)
        assert delete_records(c, t, 0, -7, version)[0] == kwire.OFFSET_OUT_OF_RANGE
        assert delete_records(c, t, 5, 1, version)[0] == kwire.UNKNOWN_TOPIC_OR_PARTITION
        assert delete_records(c, "gone-topic-x", 0, 1, version)[0] == kwire.UNKNOWN_TOPIC_OR_PARTITION
        assert kwire.fetch(c, t, 0, 2)["ErrorCode"] == kwire.OFFSET_OUT_OF_RANGE
    assert helpers.earliest_offset(b.bootstrap, t) == 4
    b.restart()
    assert helpers.earliest_offset(b.bootstrap, t) == 4
    with kwire.Conn(b.bootstrap) as c:
        assert delete_records(c, t, 0, -1, version) == (0, 10), "-1 means the high watermark"
    assert helpers.earliest_offset(b.bootstrap, t) == 10


def test_delete_records_compacted_topic(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), config={"cleanup.policy": "compact"})
    produce_n(shared_broker.bootstrap, t, 2)
    with kwire.Conn(shared_broker.bootstrap) as c:
        assert delete_records(c, t, 0, 1)[0] == POLICY_VIOLATION


# ---------------------------------------------------------------- cluster, log dirs, elections, reassignments

@pytest.mark.parametrize("version", [0, 1])
def test_describe_cluster(shared_broker, version):
    with kwire.Conn(shared_broker.bootstrap) as c:
        r = c.request("DescribeCluster", version, {"IncludeClusterAuthorizedOperations": False, "EndpointType": 1})
        assert r["ErrorCode"] == 0 and r["ControllerId"] == 1 and len(r["ClusterId"]) == 22
        assert [(x["BrokerId"], x["Port"]) for x in r["Brokers"]] == [(1, shared_broker.port)]
        assert r["ClusterAuthorizedOperations"] == -2147483648
        if version >= 1:
            r = c.request("DescribeCluster", version, {"EndpointType": 2})
            assert r["ErrorCode"] == 114


@pytest.mark.parametrize("version", [0, 1, 2, 3, 4])
def test_describe_log_dirs(shared_broker, topic_name, version):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name(), partitions=2)
    produce_n(shared_broker.bootstrap, t, 3, partition=1, size=100)
    with kwire.Conn(shared_broker.bootstrap) as c:
        r = c.request("DescribeLogDirs", version, {"Topics": [{"Topic": t, "Partitions": [0, 1, 7]},
                                                              {"Topic": "absent-x", "Partitions": [0]}]})
        res = r["Results"]
        assert len(res) == 1 and res[0]["ErrorCode"] == 0
        assert res[0]["LogDir"].endswith("data")
        topics = res[0]["Topics"]
        assert [x["Name"] for x in topics] == [t]
        sizes = {p["PartitionIndex"]: (p["PartitionSize"], p["OffsetLag"]) for p in topics[0]["Partitions"]}
        assert set(sizes) == {0, 1} and sizes[0] == (0, 0) and sizes[1][0] > 300 and sizes[1][1] == 0
        if version >= 4:
            assert res[0]["TotalBytes"] > 0 and res[0]["UsableBytes"] > 0
        r = c.request("DescribeLogDirs", version, {"Topics": None})
        assert t in [x["Name"] for x in r["Results"][0]["Topics"]]


@pytest.mark.parametrize("version", [0, 1, 2])
def test_elect_leaders(shared_broker, topic_name, version):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    with kwire.Conn(shared_broker.bootstrap) as c:
        body = {"ElectionType": 0, "TopicPartitions": [{"Topic": t, "Partitions": [0, 3]},
                                                       {"Topic": "nope-x", "Partitions": [0]}],
                "TimeoutMs": 5000}
        r = c.request("ElectLeaders", version, body)
        res = {(x["Topic"], p["PartitionId"]): p["ErrorCode"] for x in r["ReplicaElectionResults"]
               for p in x["PartitionResult"]}
        assert res == {(t, 0): ELECTION_NOT_NEEDED, (t, 3): kwire.UNKNOWN_TOPIC_OR_PARTITION,
                       ("nope-x", 0): kwire.UNKNOWN_TOPIC_OR_PARTITION}
        r = c.request("ElectLeaders", version, {"ElectionType": 0, "TopicPartitions": None, "TimeoutMs": 5000})
        assert r["ReplicaElectionResults"] == []


def test_partition_reassignments(shared_broker, topic_name):
    t = helpers.create_topic(shared_broker.bootstrap, topic_name())
    with kwire.Conn(shared_broker.bootstrap) as c:
        def reassign(replicas, partition=0, topic=t):
            body = {"TimeoutMs": 5000, "Topics": [{"Name": topic, "Partitions": [
                {"PartitionIndex": partition, "Replicas": replicas}]}]}
            r = c.request("AlterPartitionReassignments", 0, body)
            assert r["ErrorCode"] == 0
            return r["Responses"][0]["Partitions"][0]["ErrorCode"]
        assert reassign([1]) == 0
        assert reassign(None) == NO_REASSIGNMENT_IN_PROGRESS
        assert reassign([2]) == INVALID_REPLICA_ASSIGNMENT
        assert reassign([1, 2]) == INVALID_REPLICA_ASSIGNMENT
        assert reassign([]) == INVALID_REPLICA_ASSIGNMENT
        assert reassign([1], partition=9) == kwire.UNKNOWN_TOPIC_OR_PARTITION
        r = c.request("ListPartitionReassignments", 0, {"TimeoutMs": 5000, "Topics": None})
        assert r["ErrorCode"] == 0 and r["Topics"] == []
        r = c.request("ListPartitionReassignments", 0, {"TimeoutMs": 5000,
                                                        "Topics": [{"Name": t, "PartitionIndexes": [0]}]})
        assert r["ErrorCode"] == 0 and r["Topics"] == []


def test_api_versions_advertise_admin(shared_broker):
    with kwire.Conn(shared_broker.bootstrap) as c:
        r = c.request("ApiVersions", 3, {"ClientSoftwareName": "t", "ClientSoftwareVersion": "1"})
    ranges = {a["ApiKey"]: (a["MinVersion"], a["MaxVersion"]) for a in r["ApiKeys"]}
    for key, rng in {21: (0, 2), 32: (0, 4), 33: (0, 2), 35: (0, 4), 37: (0, 3), 43: (0, 2),
                     44: (0, 1), 45: (0, 0), 46: (0, 0), 60: (0, 1)}.items():
        assert ranges.get(key) == rng, (key, ranges.get(key))
