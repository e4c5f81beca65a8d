"""Prometheus metrics and health over HTTP: a scrape after known traffic is
valid exposition text (checked by promtool, Prometheus's own parser) and its
counters equal what was sent; consumer-group lag in /metrics equals what the
admin API reports (high watermark minus committed offset)."""

import json
import re
import shutil
import subprocess
import time
import urllib.request

import helpers
import kwire
import pytest
from confluent_kafka import Consumer, TopicPartition


def scrape(b, path="/metrics"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (b.http_port(), path), timeout=10) as r:
        return r.status, r.read().decode()


def samples(text):
    """{(name, frozenset(labels)): value} from exposition text."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        assert m, "malformed sample line: %r" % line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(s, name, **labels):
    return s.get((name, frozenset((k, str(v)) for k, v in labels.items())))


def test_metrics_parse_and_count_known_traffic(broker, topic_name):
    b = broker()
    t = helpers.create_topic(b.bootstrap, topic_name(), partitions=2)
    sizes = []
    with kwire.Conn(b.bootstrap) as c:
        for i in range(10):
            batch = kwire.record_batch([(b"k%d" % j, b"v" * 50) for j in range(5)])
            sizes.append(len(batch))
            assert kwire.produce(c, t, i % 2, batch)["ErrorCode"] == 0
        part = kwire.fetch(c, t, 0, 0)
        assert part["ErrorCode"] == 0
    status, text = scrape(b)
    assert status == 200
    if shutil.which("promtool"):
        res = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True,
                             timeout=30)
        # promtool exits 0 for valid text; lint remarks (e.g. naming advice) are printed, not fatal.
        assert res.returncode == 0, "promtool rejected the exposition:\n%s%s" % (
            res.stdout.decode(), res.stderr.decode())
    else:
        pytest.fail("promtool (Debian package prometheus) is missing; scripts/deps.sh installs it")
    s = samples(text)
    assert value(s, "fjord_topic_messages_in_total", topic=t) == 50
    assert value(s, "fjord_topic_bytes_in_total", topic=t) == sum(sizes)
    assert value(s, "fjord_partition_log_end_offset", topic=t, partition=0) == 25
    assert value(s, "fjord_partition_high_watermark", topic=t, partition=1) == 25
    assert value(s, "fjord_topic_messages_out_total", topic=t) == 25
    assert value(s, "fjord_topic_bytes_out_total", topic=t) == sum(sizes[0::2])
    assert value(s, "fjord_requests_total", api="Produce") == 10
    assert value(s, "fjord_request_latency_seconds_count", api="Produce") == 10
    assert value(s, "fjord_active_connections") >= 0
    assert value(s, "fjord_fsync_total") >= 1


def test_consumer_group_lag_matches_admin_view(broker, topic_name):
    b = broker({"group.initial.rebalance.delay.ms": "0"})
    t = helpers.create_topic(b.bootstrap, topic_name(), partitions=2)
    helpers.produce_all(b.bootstrap, t, [{"value": b"m%d" % i, "partition": i % 2} for i in range(40)])
    group = "lag-" + t
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group, "enable.auto.commit": False,
                  "broker.address.family": "v4"})
    try:
        c.commit(offsets=[TopicPartition(t, 0, 7), TopicPartition(t, 1, 20)], asynchronous=False)
        committed = {tp.partition: tp.offset for tp in
                     c.committed([TopicPartition(t, 0), TopicPartition(t, 1)], timeout=10)}
        high = {p: c.get_watermark_offsets(TopicPartition(t, p), timeout=10)[1] for p in (0, 1)}
    finally:
        c.close()
    admin_lag = {p: high[p] - committed[p] for p in (0, 1)}
    assert admin_lag == {0: 13, 1: 0}
    s = samples(scrape(b)[1])
    metric_lag = {p: value(s, "fjord_consumergroup_lag", group=group, topic=t, partition=p) for p in (0, 1)}
    assert metric_lag == admin_lag


def test_health(broker):
    b = broker()
    status, text = scrape(b, "/health")
    doc = json.loads(text)
    assert status == 200 and doc["status"] == "ok" and doc["node_id"] == 1
    with pytest.raises(urllib.error.HTTPError) as e:
        scrape(b, "/nope")
    assert e.value.code == 404
