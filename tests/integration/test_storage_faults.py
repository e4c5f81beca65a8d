"""Storage faults at the broker level: failed fsyncs, power cuts, a full disk,
corrupt segments. Uses the test-only hooks of src/io/file.h (FJORD_FAULTS,
FJORD_POWERCUT + SIGUSR2); they change nothing unless set.

Every acknowledged (acks=all) batch must survive byte for byte; a failed
partition answers KAFKA_STORAGE_ERROR (56) and never acknowledges; corrupt
bytes are never served. The disk-full test needs root to mount a small tmpfs
and skips, saying so, when it cannot.
"""

import os
import signal
import struct
import subprocess
import tempfile
import threading
import time

import pytest

import helpers
import kwire

STORAGE_ERROR = 56


def raw_batches(records_bytes):
    """[(base_offset, bytes from magic on)] of a Records blob (the broker rewrites
    only the base offset and the partition leader epoch before the magic)."""
    out, pos, data = [], 0, records_bytes or b""
    while len(data) - pos >= 61:
        base, length = struct.unpack_from(">qi", data, pos)
        end = pos + 12 + length
        if end > len(data):
            break
        out.append((base, data[pos + 16:end]))
        pos = end
    return out


def fetch_raw_all(bootstrap, topic, partition, upto=None):
    """{base_offset: batch bytes from magic on} up to the high watermark, and the
    error code that stopped the walk (0 = reached the end)."""
    got, offset = {}, 0
    with kwire.Conn(bootstrap) as c:
        for _ in range(100000):
            p = kwire.fetch(c, topic, partition, offset, max_wait_ms=0, max_bytes=1 << 20)
            if p["ErrorCode"] != 0:
                return got, p["ErrorCode"], offset
            batches = raw_batches(p["Records"])
            for b in p["batches"]:
                assert b["crc_ok"], "batch at %d served with a bad CRC" % b["base_offset"]
            if not batches:
                return got, 0, offset
            for base, raw in batches:
                got[base] = raw
            last = p["batches"][-1]
            offset = last["base_offset"] + last["last_offset_delta"] + 1
            if upto is not None and offset >= upto:
                return got, 0, offset
    raise AssertionError("fetch_raw_all: too many rounds")


def make_batch(tag, i, size=200):
    value = (b"%s-%06d-" % (tag, i)).ljust(size, b"x")
    return kwire.record_batch([(b"k%d" % i, value, [("i", b"%d" % i)])])


def check_acked(bootstrap, topic, partition, acked):
    """acked: {base_offset: batch as sent}; each must be served exactly (from magic on)."""
    got, err, _ = fetch_raw_all(bootstrap, topic, partition)
    assert err == 0, "fetch error %d" % err
    for base, sent in acked.items():
        assert base in got, "acknowledged batch at offset %d is missing" % base
        assert got[base] == sent[16:], "acknowledged batch at offset %d differs" % base


# ---------------------------------------------------------------- (a) failed fsync


# syncfs: every sync job runs as a group (fjord.log.syncfs.min.partitions=1),
# one syncfs in place of the per-file fdatasyncs.
SYNCFS = {"fjord.log.syncfs.min.partitions": "1"}


@pytest.mark.parametrize("nth,syncfs", [(1, False), (2, False), (5, False), (1, True), (5, True)])
def test_failed_fsync_refuses_then_recovers(broker, topic_name, monkeypatch, nth, syncfs):
    t = topic_name()
    # Only fsyncs of partition 0's folder and files count (and fail); a syncfs
    # counts as one of partition 0's when it runs for partition 0.
    monkeypatch.setenv("FJORD_FAULTS", "fsync:%d:EIO:path=/%s-0" % (nth, t))
    b = broker(SYNCFS if syncfs else None)
    monkeypatch.delenv("FJORD_FAULTS")
    assert "fault injection armed" in b.stderr
    helpers.create_topic(b.bootstrap, t, partitions=2)
    acked = {0: {}, 1: {}}
    codes = {0: [], 1: []}
    with kwire.Conn(b.bootstrap) as c:
        for i in range(24):
            for part in (0, 1):
                batch = make_batch(b"a", i)
                t0 = time.monotonic()
                r = kwire.produce(c, t, part, batch)
                assert time.monotonic() - t0 < 5.0
                codes[part].append(r["ErrorCode"])
                assert r["ErrorCode"] in (0, STORAGE_ERROR), "unexpected error %d" % r["ErrorCode"]
                if r["ErrorCode"] == 0:
                    acked[part][r["BaseOffset"]] = batch
        assert STORAGE_ERROR in codes[0], "the injected fsync failure never surfaced: %r" % codes[0]
        assert all(x == 0 for x in codes[1]), "partition 1 was affected: %r" % codes[1]
        # A failed partition answers at once, and recovers by itself within a few seconds.
        deadline = time.monotonic() + 10
        recovered = False
        while time.monotonic() < deadline:
            batch = make_batch(b"r", len(acked[0]))
            t0 = time.monotonic()
            r = kwire.produce(c, t, 0, batch)
            assert time.monotonic() - t0 < 1.0, "a failed partition must answer at once"
            assert r["ErrorCode"] in (0, STORAGE_ERROR)
            if r["ErrorCode"] == 0:
                acked[0][r["BaseOffset"]] = batch
                recovered = True
                break
            time.sleep(0.2)
        assert recovered, "partition 0 did not recover within 10 s"
        for i in range(5):
            batch = make_batch(b"z", i)
            r = kwire.produce(c, t, 0, batch)
            assert r["ErrorCode"] == 0
            acked[0][r["BaseOffset"]] = batch
    assert "recovered from a storage error" in b.stderr
    for part in (0, 1):
        check_acked(b.bootstrap, t, part, acked[part])
    b.restart()
    for part in (0, 1):
        check_acked(b.bootstrap, t, part, acked[part])


def test_relaxed_ack_waits_for_the_direct_write(broker, topic_name, monkeypatch):
    """Relaxed flushing acks once data is in the files. A large batch is staged
    for a direct write; when that write fails, the produce must fail too (an
    ack sent before the write would claim data a crash could lose)."""
    t = topic_name()
    # The second write to partition 0's first segment fails: the first batch
    # is small (a buffered write), the second large (staged, written by a job).
    monkeypatch.setenv("FJORD_FAULTS", "write:2:EIO:path=/%s-0/00000000000000000000.log" % t)
    b = broker({"log.flush.interval.ms": "600000"})
    monkeypatch.delenv("FJORD_FAULTS")
    assert "fault injection armed" in b.stderr
    helpers.create_topic(b.bootstrap, t, partitions=2)
    acked = {}
    with kwire.Conn(b.bootstrap) as c:
        small = make_batch(b"s", 0)
        r = kwire.produce(c, t, 0, small)
        assert r["ErrorCode"] == 0
        acked[r["BaseOffset"]] = small
        big = kwire.record_batch([(b"k%d" % i, b"v" * 1000, []) for i in range(200)])
        assert kwire.produce(c, t, 0, big)["ErrorCode"] == STORAGE_ERROR
        # The other partition stages and writes the same batch without trouble.
        assert kwire.produce(c, t, 1, big)["ErrorCode"] == 0
        # The partition recovers by itself and keeps what it acknowledged, although
        # no fsync ever covered it (relaxed flushing acks on page-cache durability).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            batch = make_batch(b"r", 1)
            r = kwire.produce(c, t, 0, batch)
            assert r["ErrorCode"] in (0, STORAGE_ERROR)
            if r["ErrorCode"] == 0:
                acked[r["BaseOffset"]] = batch
                break
            time.sleep(0.2)
        assert len(acked) == 2, "partition 0 did not recover within 10 s"
    assert "write failed" in b.stderr
    check_acked(b.bootstrap, t, 0, acked)


# ---------------------------------------------------------------- (b) power cut


@pytest.mark.parametrize("syncfs", [False, True])
def test_power_cut_keeps_every_acked_batch(broker, topic_name, monkeypatch, syncfs):
    t = topic_name()
    monkeypatch.setenv("FJORD_POWERCUT", "1")
    b = broker(SYNCFS if syncfs else None)
    monkeypatch.delenv("FJORD_POWERCUT")
    assert "power-cut tracking on" in b.stderr
    helpers.create_topic(b.bootstrap, t, partitions=3, config={"segment.bytes": "65536"})
    acked = {0: {}, 1: {}, 2: {}}
    lock = threading.Lock()
    stop = threading.Event()
    errors = []

    def pump(part):
        i = 0
        try:
            with kwire.Conn(b.bootstrap, timeout=5.0) as c:
                while not stop.is_set() and i < 100000:
                    batch = make_batch(b"p%d" % part, i, size=300)
                    r = kwire.produce(c, t, part, batch)
                    if r["ErrorCode"] == 0:
                        with lock:
                            acked[part][r["BaseOffset"]] = batch
                    i += 1
        except (OSError, ConnectionError, ValueError):
            pass  # the broker went away mid-request: that one was not acknowledged
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=pump, args=(p,), daemon=True) for p in range(3)]
    for th in threads:
        th.start()
    helpers.wait_until(lambda: sum(len(a) for a in acked.values()) >= 600, timeout=60, interval=0.05,
                       what="600 acknowledged batches")
    with lock:
        snapshot = {p: dict(a) for p, a in acked.items()}
    b.expected_exit = True
    os.kill(b.proc.pid, signal.SIGUSR2)
    rc = b.proc.wait(20)
    stop.set()
    for th in threads:
        th.join(10)
    assert not errors, errors
    assert rc == 137, "power-cut hook exit %s; stderr:\n%s" % (rc, b.tail())
    assert "power cut applied" in b.stderr
    with lock:
        final = {p: dict(a) for p, a in acked.items()}
    for p in snapshot:
        assert set(snapshot[p]) <= set(final[p])
    b.start()
    for p in range(3):
        check_acked(b.bootstrap, t, p, final[p])
    # The log continues after the cut.
    with kwire.Conn(b.bootstrap) as c:
        assert kwire.produce(c, t, 0, make_batch(b"after", 0))["ErrorCode"] == 0
    b.restart()


# ---------------------------------------------------------------- (c) disk full


def _mount_tmpfs(path, size):
    if os.geteuid() != 0:
        pytest.skip("disk-full test needs root to mount a size-limited tmpfs (not root here)")
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path],
                         capture_output=True, text=True, timeout=20)
    if res.returncode != 0:
        pytest.skip("disk-full test cannot mount a tmpfs: %s" % res.stderr.strip())


def test_disk_full_refuses_then_heals(broker, topic_name):
    t = topic_name()
    b = broker(start=False)
    _mount_tmpfs(b.log_dir, "24m")
    try:
        filler = os.path.join(b.log_dir, ".filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * (4 << 20))
        b.start()
        helpers.create_topic(b.bootstrap, t, partitions=1)
        acked = {}
        first_error = None
        with kwire.Conn(b.bootstrap, timeout=15.0) as c:
            for i in range(2000):
                batch = make_batch(b"f", i, size=64 * 1024)
                t0 = time.monotonic()
                r = kwire.produce(c, t, 0, batch)
                took = time.monotonic() - t0
                if r["ErrorCode"] == 0:
                    acked[r["BaseOffset"]] = batch
                    continue
                assert r["ErrorCode"] == STORAGE_ERROR, "full disk answered %d" % r["ErrorCode"]
                assert took < 1.0, "storage error took %.2f s" % took
                first_error = i
                break
            assert first_error is not None, "the disk never filled up"
            assert len(acked) > 10
            # Still full: every produce is refused at once, never acknowledged.
            for i in range(5):
                t0 = time.monotonic()
                r = kwire.produce(c, t, 0, make_batch(b"g", i, size=64 * 1024))
                assert r["ErrorCode"] == STORAGE_ERROR
                assert time.monotonic() - t0 < 1.0
                time.sleep(0.3)
            # Consumers keep reading what was acknowledged.
            check_acked(b.bootstrap, t, 0, acked)
            # Space returns: writes resume by themselves.
            os.unlink(filler)
            deadline = time.monotonic() + 15
            ok = False
            while time.monotonic() < deadline and not ok:
                batch = make_batch(b"h", len(acked), size=1024)
                r = kwire.produce(c, t, 0, batch)
                assert r["ErrorCode"] in (0, STORAGE_ERROR)
                if r["ErrorCode"] == 0:
                    acked[r["BaseOffset"]] = batch
                    ok = True
                else:
                    time.sleep(0.25)
            assert ok, "writes did not resume within 15 s of freeing space"
        check_acked(b.bootstrap, t, 0, acked)
        b.restart()
        check_acked(b.bootstrap, t, 0, acked)
    finally:
        b.kill9()
        subprocess.run(["umount", "-l", b.log_dir], capture_output=True, timeout=20)


# ---------------------------------------------------------------- (d) corruption


def _fill_segments(b, t, n=60):
    acked = {}
    with kwire.Conn(b.bootstrap) as c:
        for i in range(n):
            batch = make_batch(b"c", i, size=400)
            r = kwire.produce(c, t, 0, batch)
            assert r["ErrorCode"] == 0
            acked[r["BaseOffset"]] = batch
    return acked


def _batch_positions(path):
    """[(base_offset, position, size)] of the batches in a .log file."""
    out, pos = [], 0
    with open(path, "rb") as f:
        data = f.read()
    while len(data) - pos >= 12:
        base, length = struct.unpack_from(">qi", data, pos)
        out.append((base, pos, 12 + length))
        pos += 12 + length
    return out


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_corrupt_old_segment_never_served(broker, topic_name, damage):
    t = topic_name()
    b = broker()
    helpers.create_topic(b.bootstrap, t, partitions=1, config={"segment.bytes": "4096"})
    acked = _fill_segments(b, t)
    assert len(b.segments(t, 0)) >= 4
    b.stop()
    seg = b.segments(t, 0)[1]
    name = "%020d.log" % seg
    path = os.path.join(b.partition_dir(t, 0), name)
    batches = _batch_positions(path)
    assert len(batches) >= 3
    victim, pos, size = batches[2]
    if damage == "flip":
        with open(path, "r+b") as f:
            f.seek(pos + size - 20)
            c = f.read(1)
            f.seek(pos + size - 20)
            f.write(bytes([c[0] ^ 0x01]))
    else:
        os.truncate(path, pos + size // 2)
    b.start()  # a clean start: segments below the recovery point are not scanned
    got, err, stopped = fetch_raw_all(b.bootstrap, t, 0)
    assert err == STORAGE_ERROR, "expected KAFKA_STORAGE_ERROR at the corrupt batch, got %d" % err
    assert stopped == victim, "reading stopped at %d, the corrupt batch is at %d" % (stopped, victim)
    assert victim not in got
    for base, sent in acked.items():
        if base < victim:
            assert got.get(base) == sent[16:], "batch %d before the corruption differs" % base
    assert max(got) < victim
    log = b.stderr
    assert "ERROR" in log and name in log, "no ERROR naming %s in:\n%s" % (name, b.tail())
    # Other partitions' business goes on: the broker stays up and takes writes.
    with kwire.Conn(b.bootstrap) as c:
        assert kwire.produce(c, t, 0, make_batch(b"after", 0))["ErrorCode"] == 0
    assert b.alive()
    b.restart()


def test_corrupt_tail_after_crash_is_truncated(broker, topic_name):
    """A torn write in the unflushed tail (crash): recovery cuts it; nothing bad is served."""
    t = topic_name()
    b = broker()
    helpers.create_topic(b.bootstrap, t, partitions=1, config={"segment.bytes": "4096"})
    acked = _fill_segments(b, t, n=30)
    b.kill9()
    last = b.segments(t, 0)[-1]
    path = os.path.join(b.partition_dir(t, 0), "%020d.log" % last)
    with open(path, "ab") as f:
        f.write(b"\x00\x00\x00\x00\x00\x00\x00\x99\x00\x00\x01\x00garbage-torn-write")
    b.start()
    check_acked(b.bootstrap, t, 0, acked)
    with kwire.Conn(b.bootstrap) as c:
        r = kwire.produce(c, t, 0, make_batch(b"next", 0))
        assert r["ErrorCode"] == 0 and r["BaseOffset"] == max(acked) + 1
