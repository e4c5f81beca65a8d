"""Hostile clients: idle and slow-loris connections are closed after
connections.max.idle.ms, and connection floods are bounded by
max.connections / max.connections.per.ip, while well-behaved clients keep
being served. Bounds are generous "did not hang" limits, never speed claims."""

import socket
import time

import kwire

IDLE_MS = 1500
BROKER_PROPS = {"connections.max.idle.ms": str(IDLE_MS), "max.connections.per.ip": "6",
                "auto.create.topics.enable": "false"}


def api_versions_ok(bootstrap):
    with kwire.Conn(bootstrap) as c:
        return c.request("ApiVersions", 3, {"ClientSoftwareName": "t", "ClientSoftwareVersion": "1"})["ErrorCode"] == 0


def test_idle_connection_is_closed(shared_broker):
    with kwire.Conn(shared_broker.bootstrap) as c:
        assert c.is_closed(timeout=15), "an idle connection must be closed after connections.max.idle.ms"
    assert api_versions_ok(shared_broker.bootstrap)


def test_slow_loris_is_closed(shared_broker):
    frame = kwire.encode_request("ApiVersions", 3, {"ClientSoftwareName": "t", "ClientSoftwareVersion": "1"}, 7)
    s = socket.create_connection(("127.0.0.1", shared_broker.port))
    closed = False
    deadline = time.monotonic() + 20
    try:
        i = 0
        while time.monotonic() < deadline and i < len(frame) - 1:  # never completes the frame
            try:
                s.sendall(frame[i:i + 1])
            except OSError:
                closed = True
                break
            i += 1
            s.settimeout(0.3)
            try:
                if s.recv(1) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
            except OSError:
                closed = True
                break
    finally:
        s.close()
    assert closed, "a connection trickling one byte at a time must be closed"
    assert api_versions_ok(shared_broker.bootstrap), "other clients are still served"


def test_parked_fetch_longer_than_idle_is_answered(shared_broker, topic_name):
    name = topic_name()
    with kwire.Conn(shared_broker.bootstrap, timeout=30) as c:
        assert kwire.create_topics(c, [(name, 1, None)])[name][0] == kwire.NONE
        part = kwire.fetch(c, name, 0, 0, max_wait_ms=IDLE_MS * 2, min_bytes=1)
        assert part["ErrorCode"] == 0, "a long poll is activity, not idleness"


def test_connections_per_ip_are_bounded(shared_broker):
    conns = []
    try:
        for _ in range(6):
            c = kwire.Conn(shared_broker.bootstrap)
            assert c.request("ApiVersions", 0, {})["ErrorCode"] == 0
            conns.append(c)
        extra = kwire.Conn(shared_broker.bootstrap)
        conns.append(extra)
        assert extra.is_closed(timeout=10), "the 7th connection from one address must be refused"
        for c in conns[:6]:
            assert c.request("ApiVersions", 0, {})["ErrorCode"] == 0, "existing clients keep working"
    finally:
        for c in conns:
            c.close()
    # Once they are gone, new connections are accepted again.
    time.sleep(0.2)
    assert api_versions_ok(shared_broker.bootstrap)
