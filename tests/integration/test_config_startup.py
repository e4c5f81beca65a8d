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


def _server_socket_buffers(port):
    """(rb, tb) of the broker's side of an established connection on port, from ss -tmn."""
    out = subprocess.run(["ss", "-tmnH", "state", "established", "( sport = :%d )" % port],
                         capture_output=True, text=True, check=True).stdout
    import re
    m = re.search(r"skmem:\(r\d+,rb(\d+),t\d+,tb(\d+)", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


def test_socket_buffer_sizes_are_applied(broker):
    """socket.receive/send.buffer.bytes set explicitly pin the accepted sockets' buffers (the
    kernel doubles what is asked); the default -1 leaves the kernel's sizes."""
    import socket
    b = broker({"socket.receive.buffer.bytes": "300000", "socket.send.buffer.bytes": "200000"})
    with socket.create_connection(("127.0.0.1", b.port)):
        rb, tb = _server_socket_buffers(b.port)
    assert (rb, tb) == (600000, 400000), (rb, tb)
    d = broker()
    with socket.create_connection(("127.0.0.1", d.port)):
        rb, tb = _server_socket_buffers(d.port)
    assert rb != 600000 and tb != 400000, (rb, tb)


def test_socket_buffer_below_minus_one_is_a_startup_error(tmp_path):
    code, err = run_broker(tmp_path, {"listeners": "PLAINTEXT://127.0.0.1:0", "log.dirs": str(tmp_path / "d"),
                                      "socket.receive.buffer.bytes": "-2"})
    assert code not in (None, 0), "the broker must refuse to start"
    assert "socket.receive.buffer.bytes" in err, err
