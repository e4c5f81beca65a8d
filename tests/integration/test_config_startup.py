"""The broker's own configuration: Kafka's server.properties keys, a malformed
value stops it with a message naming the key, an unknown key is only a
warning, and a data directory belonging to another node.id is refused."""

import os
import subprocess

import conftest
import helpers


def run_broker(tmp_path, props, timeout=20):
    """Start the broker expecting it to exit by itself; returns (code, stderr)."""
    cfg = tmp_path / "server.properties"
    cfg.write_text("".join("%s=%s\n" % kv for kv in props.items()))
    try:
        res = subprocess.run([conftest.broker_binary(), "server", "-c", str(cfg)], capture_output=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, ""
    return res.returncode, res.stderr.decode(errors="replace")


def test_malformed_value_is_a_startup_error(tmp_path):
    code, err = run_broker(tmp_path, {"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": str(tmp_path / "d"),
                                      "log.segment.bytes": "lots"})
    assert code not in (None, 0), "the broker must refuse to start"
    assert "log.segment.bytes" in err, err


def test_out_of_range_value_is_a_startup_error(tmp_path):
    code, err = run_broker(tmp_path, {"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": str(tmp_path / "d"),
                                      "num.partitions": "0"})
    assert code not in (None, 0)
    assert "num.partitions" in err, err


def test_unknown_key_is_a_warning(broker):
    b = broker({"no.such.kafka.key": "1"})
    topic = helpers.create_topic(b.bootstrap, "still-serving")
    assert helpers.latest_offset(b.bootstrap, topic) == 0
    assert "no.such.kafka.key" in b.tail(), "the unknown key must be named in the log"


def test_data_dir_of_another_node_is_refused(broker, tmp_path):
    b = broker({"node.id": "1"})
    b.stop()
    data = b.log_dir
    code, err = run_broker(tmp_path, {"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": data, "node.id": "2"})
    assert code not in (None, 0)
    assert "node.id" in err, err
    assert os.path.exists(os.path.join(data, "meta.properties"))
