"""Consumer-group test harness: group members in their own processes, ownership
tracking, delivery accounting, and raw group requests (kwire).

A member is a child process that prints one JSON object per line:

    {"ev": "ready", "t": ..}                     consumer created and subscribed
    {"ev": "assigned", "parts": [[topic, p], ..], "full": bool, "t": .., "member": ..}
    {"ev": "revoked",  "parts": [..], "why": "rebalance"|"close"|"lost", "t": ..}
    {"ev": "msgs", "m": [[topic, p, offset, value], ..], "t": ..}
    {"ev": "commit", "ok": bool, "offsets": [[topic, p, next_offset], ..], "err": .., "t": ..}
    {"ev": "stats", "rebalance_cnt": N, "state": .., "join_state": .., "t": ..}   (librdkafka)
    {"ev": "closed", "t": ..}                    graceful close finished

"assigned" with full=true replaces what the member owns (eager protocol, kafkajs
GROUP_JOIN); full=false adds to it (cooperative). A "revoked" line is printed
*after* the member committed what it processed of those partitions and stopped
fetching them (the end of its ownership); an "assigned" line is printed before
the first record of those partitions is handed to the application. So for one
partition, two members' [assigned, revoked) intervals must never overlap.

Python members run this file: `python3 group_helpers.py member JSON` (client
"confluent" = confluent-kafka/librdkafka, "kafka" = kafka-python); kafkajs
members run tests/js/group_member.js with the same JSON. SIGTERM = graceful
close (commit, LeaveGroup unless static), SIGKILL = crash (session timeout).

Times are wall-clock seconds (time.time()), comparable across processes on
this host. Every wait is bounded in time, every loop in count.
"""

import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
JS_DIR = os.path.join(REPO, "tests", "js")

# Group timings used by every member (the broker's group.min.session.timeout.ms
# default is 6000).
SESSION_MS = 6000
HEARTBEAT_MS = 1000
MAX_POLL_MS = 30000  # also the rebalance timeout (JoinGroup v1+)

# The broker settings a group test module wants (BROKER_PROPS).
GROUP_BROKER_PROPS = {"group.initial.rebalance.delay.ms": "0", "auto.create.topics.enable": "false"}


# ====================================================================== member processes (child side)

def _emit(obj):
    obj.setdefault("t", time.time())
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _val(b):
    return None if b is None else b.decode("utf-8", "replace")


def _member_confluent(cfg):
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    cooperative = "cooperative" in cfg.get("conf", {}).get("partition.assignment.strategy", "")
    conf = {"bootstrap.servers": cfg["bootstrap"], "group.id": cfg["group"], "client.id": cfg["name"],
            "broker.address.family": "v4", "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": HEARTBEAT_MS,
            "max.poll.interval.ms": max(MAX_POLL_MS, cfg.get("conf", {}).get("session.timeout.ms", 0)),
            "statistics.interval.ms": 1000}
    conf.update(cfg.get("conf", {}))
    owned = set()
    pending = {}  # (topic, p) -> next offset processed but not yet committed

    def stats_cb(js):
        try:
            cg = json.loads(js).get("cgrp") or {}
            _emit({"ev": "stats", "rebalance_cnt": cg.get("rebalance_cnt"), "state": cg.get("state"),
                   "join_state": cg.get("join_state"), "assignment_size": cg.get("assignment_size")})
        except ValueError:
            pass

    conf["stats_cb"] = stats_cb
    c = Consumer(conf)

    def commit(tps):
        offs = [TopicPartition(t, p, pending[(t, p)]) for (t, p) in tps if (t, p) in pending]
        if not offs:
            return
        rep = [[tp.topic, tp.partition, tp.offset] for tp in offs]
        sent = time.time()  # a commit acknowledged just before a SIGSTOP is logged after it
        try:
            res = c.commit(offsets=offs, asynchronous=False)
            errs = [str(tp.error) for tp in (res or []) if tp.error is not None]
            if errs:
                _emit({"ev": "commit", "ok": False, "offsets": rep, "err": errs[:3]})
                return
        except KafkaException as e:
            _emit({"ev": "commit", "ok": False, "offsets": rep, "err": str(e)})
            return
        for tp in offs:
            if pending.get((tp.topic, tp.partition)) == tp.offset:
                del pending[(tp.topic, tp.partition)]
        _emit({"ev": "commit", "ok": True, "offsets": rep, "sent": sent})

    def on_assign(cons, parts):
        tps = [(tp.topic, tp.partition) for tp in parts]
        owned.update(tps)
        _emit({"ev": "assigned", "parts": tps, "full": not cooperative, "member": None})
        if cooperative:
            cons.incremental_assign(parts)
        else:
            cons.assign(parts)

    def on_revoke(cons, parts):
        tps = [(tp.topic, tp.partition) for tp in parts]
        commit(tps)
        if cooperative:
            cons.incremental_unassign(parts)
        else:
            cons.unassign()
        for tp in tps:
            pending.pop(tp, None)
        mine = [tp for tp in tps if tp in owned]
        owned.difference_update(tps)
        if mine:
            _emit({"ev": "revoked", "parts": mine, "why": "rebalance"})

    def on_lost(cons, parts):
        tps = [(tp.topic, tp.partition) for tp in parts]
        if cooperative:
            cons.incremental_unassign(parts)
        else:
            cons.unassign()
        for tp in tps:
            pending.pop(tp, None)
        mine = [tp for tp in tps if tp in owned]
        owned.difference_update(tps)
        _emit({"ev": "revoked", "parts": mine, "why": "lost"})

    c.subscribe(cfg["topics"], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
    _emit({"ev": "ready"})
    deadline = time.monotonic() + cfg.get("max_runtime", 240)
    while not stop and time.monotonic() < deadline:
        msgs = c.consume(num_messages=500, timeout=0.2)
        out = []
        for m in msgs:
            if m.error() is not None:
                _emit({"ev": "error", "err": str(m.error())})
                continue
            out.append([m.topic(), m.partition(), m.offset(), _val(m.value())])
            pending[(m.topic(), m.partition())] = m.offset() + 1
        if out:
            _emit({"ev": "msgs", "m": out})
            commit(list(pending))
    commit(list(pending))
    _emit({"ev": "revoked", "parts": sorted(owned), "why": "close"})
    owned.clear()
    c.close()
    _emit({"ev": "closed"})


def _member_kafka_python(cfg):
    import kafka
    from kafka.consumer.subscription_state import ConsumerRebalanceListener
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    from kafka.structs import OffsetAndMetadata, TopicPartition

    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    assignors = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}
    strategy = [assignors[a] for a in cfg.get("assignors", ["range"])]
    c = kafka.KafkaConsumer(bootstrap_servers=cfg["bootstrap"], group_id=cfg["group"], client_id=cfg["name"],
                            enable_auto_commit=False, auto_offset_reset="earliest",
                            session_timeout_ms=SESSION_MS, heartbeat_interval_ms=HEARTBEAT_MS,
                            max_poll_interval_ms=MAX_POLL_MS, partition_assignment_strategy=strategy,
                            request_timeout_ms=MAX_POLL_MS + 5000)
    owned = set()
    pending = {}

    def commit(tps):
        offs = {TopicPartition(t, p): OffsetAndMetadata(pending[(t, p)], None) for (t, p) in tps if (t, p) in pending}
        if not offs:
            return
        rep = [[tp.topic, tp.partition, om.offset] for tp, om in offs.items()]
        sent = time.time()  # a commit acknowledged just before a SIGSTOP is logged after it
        try:
            c.commit(offs)
        except Exception as e:  # CommitFailedError and friends
            _emit({"ev": "commit", "ok": False, "offsets": rep, "err": repr(e)[:300]})
            return
        for tp, om in offs.items():
            if pending.get((tp.topic, tp.partition)) == om.offset:
                del pending[(tp.topic, tp.partition)]
        _emit({"ev": "commit", "ok": True, "offsets": rep, "sent": sent})

    def generation():
        g = getattr(c._coordinator, "_generation", None)
        return (g.generation_id, g.member_id, g.protocol) if g is not None else (None, None, None)

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            tps = [(tp.topic, tp.partition) for tp in revoked]
            commit(tps)
            for tp in tps:
                pending.pop(tp, None)
            mine = [tp for tp in tps if tp in owned]
            owned.difference_update(tps)
            if mine:
                _emit({"ev": "revoked", "parts": mine, "why": "rebalance"})

        def on_partitions_assigned(self, assigned):
            tps = [(tp.topic, tp.partition) for tp in assigned]
            owned.clear()
            owned.update(tps)
            gen, member, proto = generation()
            _emit({"ev": "assigned", "parts": tps, "full": True, "member": member, "gen": gen,
                   "protocol": proto})

    c.subscribe(cfg["topics"], listener=Listener())
    _emit({"ev": "ready"})
    deadline = time.monotonic() + cfg.get("max_runtime", 240)
    while not stop and time.monotonic() < deadline:
        out = []
        for tp, recs in c.poll(timeout_ms=200, max_records=500).items():
            for r in recs:
                out.append([r.topic, r.partition, r.offset, _val(r.value)])
                pending[(r.topic, r.partition)] = r.offset + 1
        if out:
            _emit({"ev": "msgs", "m": out})
            commit(list(pending))
    commit(list(pending))
    _emit({"ev": "revoked", "parts": sorted(owned), "why": "close"})
    owned.clear()
    c.close(autocommit=False)
    _emit({"ev": "closed"})


def member_main(argv):
    cfg = json.loads(argv[0])
    try:
        {"confluent": _member_confluent, "kafka": _member_kafka_python}[cfg["client"]](cfg)
    except Exception as e:  # report, then die non-zero
        import traceback
        _emit({"ev": "fatal", "err": traceback.format_exc()[-3000:]})
        raise SystemExit(3) from e


# ====================================================================== member processes (test side)

class Member:
    """One group member process and what it reported.

    client: "confluent", "kafka" (kafka-python) or "kafkajs".
    """

    def __init__(self, client, bootstrap, group, topics, name, conf=None, assignors=None, max_runtime=240):
        self.client, self.name, self.group = client, name, group
        cfg = {"client": client, "bootstrap": bootstrap, "group": group, "topics": list(topics), "name": name,
               "conf": conf or {}, "max_runtime": max_runtime}
        if assignors:
            cfg["assignors"] = list(assignors)
        if client == "kafkajs":
            cmd = ["node", os.path.join(JS_DIR, "group_member.js"), json.dumps(cfg)]
        else:
            cmd = [sys.executable, os.path.abspath(__file__), "member", json.dumps(cfg)]
        self._err = tempfile.TemporaryFile()
        self.lock = threading.Lock()
        self.events = []
        self.owned = set()
        self.deliveries = []  # (topic, p, offset, value, t)
        self.ended = None     # wall time the process was killed/stopped by the test
        self.killed = False
        self.started = time.time()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._err,
                                     text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                kind = ev.get("ev")
                if kind == "msgs":
                    for t, p, o, v in ev["m"]:
                        self.deliveries.append((t, p, o, v, ev["t"]))
                    continue
                if kind == "stats":
                    self.last_stats = ev
                    continue
                for k in ("parts",):
                    if k in ev:
                        ev[k] = [tuple(x) for x in ev[k]]
                self.events.append(ev)
                if kind == "assigned":
                    if ev.get("full"):
                        self.owned = set(ev["parts"])
                    else:
                        self.owned |= set(ev["parts"])
                elif kind == "revoked":
                    self.owned -= set(ev["parts"])

    # -- queries (thread-safe snapshots)

    def snapshot(self):
        with self.lock:
            return set(self.owned)

    def evs(self, kind=None):
        with self.lock:
            return [e for e in self.events if kind is None or e.get("ev") == kind]

    def stats(self):
        with self.lock:
            return getattr(self, "last_stats", None)

    def has(self, kind):
        return bool(self.evs(kind))

    def alive(self):
        return self.proc.poll() is None and self.ended is None

    def stderr(self):
        try:
            self._err.seek(0)
            return self._err.read().decode("utf-8", "replace")[-3000:]
        except (OSError, ValueError):
            return ""

    def describe(self):
        fatal = self.evs("fatal")
        return "%s(%s, exit %s)%s stderr: %s" % (self.name, self.client, self.proc.poll(),
                                                 (" fatal: " + fatal[-1]["err"]) if fatal else "", self.stderr()[-1500:])

    def member_id(self):
        ids = [e.get("member") for e in self.evs("assigned") if e.get("member")]
        return ids[-1] if ids else None

    # -- lifecycle

    def wait_ready(self, timeout=30):
        wait_for(lambda: self.has("ready") or self.proc.poll() is not None, timeout, "%s to start" % self.name)
        assert self.has("ready"), "member did not start: " + self.describe()

    def stop(self, timeout=40):
        """Graceful close (SIGTERM): commits, leaves the group, exits 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("%s did not close within %.0f s: %s" % (self.name, timeout, self.describe()))
        self._reader.join(5)
        if self.ended is None:
            self.ended = time.time()
        assert self.proc.returncode == 0 and self.has("closed"), "unclean close: " + self.describe()

    def kill(self):
        """Crash (SIGKILL): no commit, no LeaveGroup."""
        if self.ended is None:
            self.ended = time.time()
        if self.proc.poll() is None:
            self.killed = True
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(5)
        with self.lock:
            self.owned = set()

    def pause(self):
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def cleanup(self):
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGCONT)
            except OSError:
                pass
            self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        try:
            self._err.close()
        except OSError:
            pass


class Members:
    """Factory and registry for Member processes; cleanup() kills what is left."""

    def __init__(self):
        self.all = []

    def start(self, *args, wait=True, **kw):
        m = Member(*args, **kw)
        self.all.append(m)
        if wait:
            m.wait_ready()
        return m

    def alive(self):
        return [m for m in self.all if m.alive()]

    def cleanup(self):
        for m in self.all:
            m.cleanup()

    def report(self):
        return "\n".join(m.describe() for m in self.all if m.proc.poll() not in (None, 0) or m.has("fatal"))


def wait_for(pred, timeout, what, interval=0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s (last %r)" % (timeout, what, last))


# ====================================================================== ownership checks

def all_tps(topic_parts):
    """{(topic, p)} from {topic: npartitions}."""
    return {(t, p) for t, n in topic_parts.items() for p in range(n)}


def _last_rebalance_event(m):
    ts = [e["t"] for e in m.evs() if e.get("ev") in ("assigned", "revoked")]
    return max(ts) if ts else None


def wait_settled(members, tps, timeout=60.0, quiet=2.0, exact_members=True):
    """Wait until the live `members` own every partition in `tps` exactly once,
    every one of them owns at least one, and no assignment change happened for
    `quiet` s. Returns {name: owned set}, taken twice at one instant (equal)."""
    tps = set(tps)
    deadline = time.monotonic() + timeout
    last = None
    for _ in range(int(timeout / 0.1) + 10):
        if time.monotonic() > deadline:
            break
        for m in members:
            assert m.proc.poll() is None, "member died: " + m.describe()
        snap = {m.name: m.snapshot() for m in members}
        owners = {}
        for name, s in snap.items():
            for tp in s:
                owners.setdefault(tp, []).append(name)
        two = {tp: o for tp, o in owners.items() if len(o) > 1}
        assert not two, "partitions with two owners at one instant: %r (all: %r)" % (two, snap)
        ok = set(owners) == tps and (not exact_members or all(snap.values()))
        lasts = [_last_rebalance_event(m) for m in members]
        if ok and all(lasts) and time.time() - max(lasts) >= quiet:
            again = {m.name: m.snapshot() for m in members}
            if again == snap:
                return snap
        last = snap
        time.sleep(0.1)
    raise AssertionError("group did not settle within %.0f s: owned %r, want %d partitions over %d members; %s"
                         % (timeout, last, len(tps), len(members),
                            "; ".join("%s events %r" % (m.name, m.evs()[-6:]) for m in members)))


def assert_balanced(snap):
    sizes = sorted(len(s) for s in snap.values())
    assert sizes[-1] - sizes[0] <= 1, "unbalanced assignment %r" % snap


def ownership_intervals(members, now=None):
    """{(topic, p): [(start, end, member name)]} from assigned/revoked lines;
    a killed/stopped member's open intervals end when the test ended it."""
    now = now or time.time()
    out = {}
    for m in members:
        open_ = {}
        for e in m.evs():
            if e.get("ev") == "assigned":
                if e.get("full"):
                    for tp, st in list(open_.items()):  # implicit revoke (should not happen)
                        if tp not in e["parts"]:
                            out.setdefault(tp, []).append((st, e["t"], m.name))
                            del open_[tp]
                for tp in e["parts"]:
                    open_.setdefault(tp, e["t"])
            elif e.get("ev") == "revoked":
                for tp in e["parts"]:
                    if tp in open_:
                        out.setdefault(tp, []).append((open_.pop(tp), e["t"], m.name))
        for tp, st in open_.items():
            out.setdefault(tp, []).append((st, m.ended or now, m.name))
    return out


def assert_no_overlapping_ownership(members):
    """No partition was owned by two members at any instant (assignment callbacks)."""
    bad = []
    for tp, ivs in ownership_intervals(members).items():
        ivs.sort()
        for a, b in zip(ivs, ivs[1:]):
            if b[0] < a[1] and a[2] != b[2]:
                bad.append((tp, a, b))
    assert not bad, "partition owned by two members at once (tp, (start, end, member) x2): %r" % bad[:5]


# ====================================================================== delivery accounting

class BackgroundProducer:
    """Produces "seq-N" values round-robin over explicit partitions at a modest
    rate on a thread until stop(); records every delivery report."""

    def __init__(self, bootstrap, topic, partitions, interval=0.01, per_tick=3):
        from confluent_kafka import Producer
        self.topic, self.partitions = topic, partitions
        self.p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                           "broker.address.family": "v4", "message.timeout.ms": 30000})
        self.interval, self.per_tick = interval, per_tick
        self.acked, self.failed = [], []
        self.seq = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _cb(self, err, msg):
        if err is not None:
            self.failed.append(str(err))
        else:
            self.acked.append((msg.topic(), msg.partition(), msg.offset(), msg.value().decode()))

    def _run(self):
        for _ in range(200000):
            if self._stop.is_set():
                break
            for _ in range(self.per_tick):
                try:
                    self.p.produce(self.topic, value=b"seq-%d" % self.seq, partition=self.seq % self.partitions,
                                   on_delivery=self._cb)
                    self.seq += 1
                except BufferError:
                    pass
            self.p.poll(0)
            time.sleep(self.interval)

    def stop(self, timeout=30):
        self._stop.set()
        self._thread.join(10)
        left = self.p.flush(timeout)
        assert left == 0 and not self.failed, "producer: %d undelivered, failures %r" % (left, self.failed[:3])
        return list(self.acked)


def produce_batch(bootstrap, topic, partitions, n, prefix="b"):
    """n values "<prefix>-i" round-robin over partitions; returns [(topic, p, offset, value)]."""
    import helpers
    msgs = [{"value": ("%s-%d" % (prefix, i)).encode(), "partition": i % partitions} for i in range(n)]
    reps = helpers.produce_all(bootstrap, topic, msgs)
    return [(topic, r["partition"], r["offset"], m["value"].decode()) for m, r in zip(msgs, reps)]


def wait_all_consumed(members, produced, timeout=60.0):
    want = {(t, p, o) for t, p, o, _ in produced}

    def missing():
        got = set()
        for m in members:
            with m.lock:
                got.update((t, p, o) for t, p, o, _, _ in m.deliveries)
        return want - got

    deadline = time.monotonic() + timeout
    miss = missing()
    while miss and time.monotonic() < deadline:
        time.sleep(0.2)
        miss = missing()
    assert not miss, "%d produced messages never consumed by the group, e.g. %r" % (len(miss), sorted(miss)[:10])


def assert_delivery(members, produced, ignore=()):
    """Every produced record consumed with the right value; a record delivered
    again only if no successful commit past it had been acknowledged before
    the repeat delivery (at-least-once, nothing more). Returns the repeats as
    [((topic, p, offset), first consumer, repeat consumer)]. `ignore`:
    (member name, t0, t1) windows whose repeat deliveries are excused (a zombie
    handing out records it fetched before it was expelled); every delivery
    still counts towards "nothing lost"."""
    value_of = {(t, p, o): v for t, p, o, v in produced}
    deliveries = []
    commits = []  # (t, topic, p, next_offset)
    for m in members:
        with m.lock:
            deliveries.extend((tt, t, p, o, v, m.name) for t, p, o, v, tt in m.deliveries)
        for e in m.evs("commit"):
            if e.get("ok"):
                commits.extend((e["t"], t, p, o) for t, p, o in e["offsets"])
    deliveries.sort()
    commits.sort()
    wrong = [(t, p, o, v, value_of[(t, p, o)]) for _, t, p, o, v, _ in deliveries
             if (t, p, o) in value_of and value_of[(t, p, o)] != v]
    assert not wrong, "consumed values differ from produced: %r" % wrong[:5]
    missing = set(value_of) - {(t, p, o) for _, t, p, o, _, _ in deliveries}
    assert not missing, "%d messages lost, e.g. %r" % (len(missing), sorted(missing)[:10])
    seen = {}
    bad = []
    redelivered = []  # ((topic, p, offset), first consumer, repeat consumer)
    ci = 0
    committed = {}  # (topic, p) -> highest acknowledged commit so far
    for tt, t, p, o, v, name in deliveries:
        while ci < len(commits) and commits[ci][0] < tt:
            ct, ctopic, cp, co = commits[ci]
            committed[(ctopic, cp)] = max(committed.get((ctopic, cp), -1), co)
            ci += 1
        key = (t, p, o)
        zombie = any(name == n and t0 <= tt <= t1 for n, t0, t1 in ignore)
        if key in seen and not zombie:
            redelivered.append((key, seen[key], name))
            if committed.get((t, p), -1) > o:
                bad.append((key, seen[key], name, committed[(t, p)]))
        seen.setdefault(key, name)
    assert not bad, ("messages delivered again after a commit past them had been acknowledged "
                     "((topic, p, offset), first consumer, second consumer, committed): %r" % bad[:10])
    return redelivered




# ====================================================================== raw group requests (kwire)

def _kwire():
    import kwire
    kwire.API_KEYS.update({"OffsetCommit": 8, "OffsetFetch": 9, "FindCoordinator": 10, "JoinGroup": 11,
                           "Heartbeat": 12, "LeaveGroup": 13, "SyncGroup": 14, "DescribeGroups": 15,
                           "ListGroups": 16, "DeleteGroups": 42, "OffsetDelete": 47})
    return kwire


NONE = 0
COORDINATOR_NOT_AVAILABLE = 15
ILLEGAL_GENERATION = 22
INCONSISTENT_GROUP_PROTOCOL = 23
UNKNOWN_MEMBER_ID = 25
REBALANCE_IN_PROGRESS = 27
GROUP_ID_NOT_FOUND = 69
NON_EMPTY_GROUP = 68
MEMBER_ID_REQUIRED = 79
FENCED_INSTANCE_ID = 82
GROUP_SUBSCRIBED_TO_TOPIC = 86


def conn(bootstrap, timeout=15.0):
    return _kwire().Conn(bootstrap, timeout=timeout)


def encode_subscription(topics, user_data=b"", version=0):
    out = struct.pack(">hi", version, len(topics))
    for t in topics:
        b = t.encode()
        out += struct.pack(">h", len(b)) + b
    out += struct.pack(">i", len(user_data)) + user_data if user_data is not None else struct.pack(">i", -1)
    return out


def encode_assignment(assignment, user_data=b""):
    """assignment: {topic: [partitions]} -> ConsumerProtocolAssignment v0 bytes."""
    out = struct.pack(">hi", 0, len(assignment))
    for t, parts in sorted(assignment.items()):
        b = t.encode()
        out += struct.pack(">h", len(b)) + b + struct.pack(">i", len(parts))
        out += b"".join(struct.pack(">i", p) for p in parts)
    out += struct.pack(">i", len(user_data))
    return out + user_data


def decode_assignment(data):
    """ConsumerProtocolAssignment bytes -> {(topic, p)} (empty bytes -> empty set)."""
    if not data:
        return set()
    pos = 2
    (n,) = struct.unpack_from(">i", data, pos)
    pos += 4
    out = set()
    for _ in range(max(n, 0)):
        (ln,) = struct.unpack_from(">h", data, pos)
        pos += 2
        t = data[pos:pos + ln].decode()
        pos += ln
        (np_,) = struct.unpack_from(">i", data, pos)
        pos += 4
        for _ in range(np_):
            out.add((t, struct.unpack_from(">i", data, pos)[0]))
            pos += 4
    return out


def decode_subscription(data):
    """ConsumerProtocolSubscription bytes -> [topics]."""
    pos = 2
    (n,) = struct.unpack_from(">i", data, pos)
    pos += 4
    out = []
    for _ in range(n):
        (ln,) = struct.unpack_from(">h", data, pos)
        pos += 2
        out.append(data[pos:pos + ln].decode())
        pos += ln
    return out


def describe_group(bootstrap, group, version=5):
    with conn(bootstrap) as c:
        r = c.request("DescribeGroups", version, {"Groups": [group], "IncludeAuthorizedOperations": False})
    assert len(r["Groups"]) == 1, r
    return r["Groups"][0]


def list_groups(bootstrap, version=4, states=None):
    body = {"StatesFilter": states or []} if version >= 4 else {}
    with conn(bootstrap) as c:
        r = c.request("ListGroups", version, body)
    assert r["ErrorCode"] == 0, "ListGroups v%d error %d" % (version, r["ErrorCode"])
    return {g["GroupId"]: g for g in r["Groups"]}


def offset_fetch(bootstrap, group, topic, partitions, version=7):
    with conn(bootstrap) as c:
        r = c.request("OffsetFetch", version, {"GroupId": group, "Topics": [
            {"Name": topic, "PartitionIndexes": list(partitions)}], "RequireStable": False})
    assert r.get("ErrorCode", 0) == 0, "OffsetFetch v%d error %d" % (version, r["ErrorCode"])
    return {p["PartitionIndex"]: (p["CommittedOffset"], p["ErrorCode"]) for t in r["Topics"] for p in t["Partitions"]}


def wait_group_state(bootstrap, group, states, timeout=30.0):
    states = (states,) if isinstance(states, str) else tuple(states)
    return wait_for(lambda: (lambda g: g if g["GroupState"] in states else None)(describe_group(bootstrap, group)),
                    timeout, "group %s in state %s" % (group, states), interval=0.2)


def describe_members(bootstrap, group):
    """DescribeGroups v5 -> (group dict, {client_id: (member id, instance id, assignment set, topics)})."""
    g = describe_group(bootstrap, group)
    assert g["ErrorCode"] == 0, "DescribeGroups error %d" % g["ErrorCode"]
    mem = {}
    for m in g["Members"]:
        assert m["ClientId"] not in mem, "two members with client id %s: %r" % (m["ClientId"], g["Members"])
        mem[m["ClientId"]] = (m["MemberId"], m.get("GroupInstanceId"), decode_assignment(m["MemberAssignment"]),
                              decode_subscription(m["MemberMetadata"]) if m["MemberMetadata"] else [])
    return g, mem


def assert_describe_matches(bootstrap, group, snap, protocol=None, topics=None):
    """DescribeGroups shows a Stable group whose members (by client id) hold
    exactly what each client says it owns."""
    g, mem = describe_members(bootstrap, group)
    assert g["GroupState"] == "Stable", "DescribeGroups state %r, want Stable" % g["GroupState"]
    assert g["ProtocolType"] == "consumer", g["ProtocolType"]
    if protocol is not None:
        assert g["ProtocolData"] == protocol, "protocol %r, want %r" % (g["ProtocolData"], protocol)
    assert set(mem) == set(snap), "DescribeGroups members %r, clients %r" % (sorted(mem), sorted(snap))
    for name, owned in snap.items():
        assert mem[name][2] == owned, "DescribeGroups says %s holds %r, the client says %r" % (
            name, sorted(mem[name][2]), sorted(owned))
        if topics is not None:
            assert sorted(mem[name][3]) == sorted(topics), "member %s subscription %r" % (name, mem[name][3])
    for m in g["Members"]:
        assert m["MemberId"], "member id empty: %r" % m
    return g, mem



# ====================================================================== fixtures and scenarios

try:
    import pytest

    @pytest.fixture
    def members():
        """Members factory (Members.start(client, bootstrap, group, topics, name, ...));
        every process still running is killed at teardown."""
        ms = Members()
        yield ms
        ms.cleanup()
except ImportError:  # member child processes do not need pytest
    pass


# The versions the three clients send (client-api-versions.md): the broker must advertise them.
GROUP_API_NEEDS = {"OffsetCommit": (2, 7), "OffsetFetch": (1, 7), "FindCoordinator": (0, 2), "JoinGroup": (2, 5),
                   "Heartbeat": (1, 3), "LeaveGroup": (1, 3), "SyncGroup": (1, 3), "DescribeGroups": (0, 5),
                   "ListGroups": (0, 4), "DeleteGroups": (0, 1)}


def require_group_apis(bootstrap):
    """Fail fast (instead of every test timing out) when the broker does not
    advertise the group APIs at the versions real clients use."""
    import pytest
    kw = _kwire()
    with conn(bootstrap) as c:
        r = c.request("ApiVersions", 3, {"ClientSoftwareName": "fjord-tests", "ClientSoftwareVersion": "1"})
    have = {k["ApiKey"]: (k["MinVersion"], k["MaxVersion"]) for k in r["ApiKeys"]}
    missing = []
    for api, (lo, hi) in GROUP_API_NEEDS.items():
        rng = have.get(kw.API_KEYS[api])
        if rng is None or rng[0] > lo or rng[1] < hi:
            missing.append("%s v%d-%d (advertised %s)" % (api, lo, hi, rng))
    if missing:
        pytest.fail("the broker does not advertise the group APIs clients need: " + ", ".join(missing))


def assert_no_rejected_commits(members):
    """Eager-protocol members commit only while they own partitions in the
    current generation (before rejoining), which Kafka accepts even while the
    group is PreparingRebalance; a rejected commit there is a coordinator bug."""
    bad = [(m.name, e) for m in members for e in m.evs("commit") if not e.get("ok")]
    assert not bad, "OffsetCommit rejected for members of the current generation: %r" % bad[:5]


def leave_kill_join_scenario(bootstrap, topic, client, members, group, protocol, assignors=None, conf=None,
                             check_commits=True):
    """The issue's scenario on a 6-partition topic, with records produced all along:
    3 members -> one leaves (graceful) -> one is killed (session timeout) -> one
    joins. After each rebalance: every partition has exactly one owner (client
    callbacks and DescribeGroups agree); at the end nothing was lost and nothing
    delivered twice beyond at-least-once. Returns the number of redeliveries."""
    tps = all_tps({topic: 6})
    kw = {"assignors": assignors, "conf": conf}
    prod = BackgroundProducer(bootstrap, topic, 6)
    try:
        a = members.start(client, bootstrap, group, [topic], "%s-a" % client, **kw)
        b = members.start(client, bootstrap, group, [topic], "%s-b" % client, **kw)
        c = members.start(client, bootstrap, group, [topic], "%s-c" % client, **kw)
        snap = wait_settled([a, b, c], tps)
        assert_balanced(snap)
        assert [len(s) for s in snap.values()] == [2, 2, 2], snap
        assert_describe_matches(bootstrap, group, snap, protocol=protocol, topics=[topic])

        a.stop()  # LeaveGroup
        snap = wait_settled([b, c], tps)
        assert sorted(len(s) for s in snap.values()) == [3, 3], snap
        assert_describe_matches(bootstrap, group, snap, protocol=protocol)

        b.kill()  # no LeaveGroup: the coordinator must expire it after session.timeout.ms
        snap = wait_settled([c], tps, timeout=60)
        assert_describe_matches(bootstrap, group, snap, protocol=protocol)

        d = members.start(client, bootstrap, group, [topic], "%s-d" % client, **kw)
        snap = wait_settled([c, d], tps)
        assert sorted(len(s) for s in snap.values()) == [3, 3], snap
        assert_describe_matches(bootstrap, group, snap, protocol=protocol)
    finally:
        produced = prod.stop()
    assert len(produced) > 100, "the background producer barely produced (%d)" % len(produced)
    wait_all_consumed([a, b, c, d], produced)
    assert_no_overlapping_ownership([a, b, c, d])
    if check_commits:
        assert_no_rejected_commits([a, c, d])  # b was killed: whatever it reported is moot
    redelivered = assert_delivery([a, b, c, d], produced)
    if check_commits:
        # With every commit accepted, only the killed member's uncommitted tail may come again.
        others = [r for r in redelivered if r[1] != b.name]
        assert not others, "redelivered although the first consumer committed it and was not killed: %r" % others[:5]
    return redelivered


def stale_member_scenario(bootstrap, topic, client, members, group, conf=None):
    """A member frozen (SIGSTOP) past its session timeout is expired by the
    coordinator; when it wakes up its member id is stale: its commits must be
    rejected, and the client must rejoin transparently (new member id) and get
    partitions again, with nothing lost."""
    tps = all_tps({topic: 6})
    prod = BackgroundProducer(bootstrap, topic, 6)
    try:
        a = members.start(client, bootstrap, group, [topic], "%s-stale" % client, conf=conf)
        b = members.start(client, bootstrap, group, [topic], "%s-steady" % client, conf=conf)
        wait_settled([a, b], tps)
        _, mem = describe_members(bootstrap, group)
        old_id = mem[a.name][0]
        a.pause()
        paused_at = time.time()
        try:
            snap = wait_settled([b], tps, timeout=60)  # a expired after session.timeout.ms
            g, mem = describe_members(bootstrap, group)
            assert set(mem) == {b.name} and g["GroupState"] == "Stable", \
                "after the session timeout DescribeGroups shows %r (%s)" % (sorted(mem), g["GroupState"])
            # The stale id is refused on the wire too.
            with conn(bootstrap) as cn:
                hb = cn.request("Heartbeat", 3, {"GroupId": group, "GenerationId": 1, "MemberId": old_id})
            assert hb["ErrorCode"] == UNKNOWN_MEMBER_ID, "Heartbeat v3 with an expired member id: error %d, want %d" \
                % (hb["ErrorCode"], UNKNOWN_MEMBER_ID)
        finally:
            a.resume()
        resumed_at = time.time()
        wait_for(lambda: [e for e in a.evs("assigned") if e["t"] > resumed_at], 60, "the stale member to rejoin")
        snap = wait_settled([a, b], tps)
        assert_balanced(snap)
        g, mem = describe_members(bootstrap, group)
        assert set(mem) == {a.name, b.name}, sorted(mem)
        assert mem[a.name][0] != old_id, "the rejoined member kept its expired member id %r" % old_id
        assert_describe_matches(bootstrap, group, snap)
        rejoined_at = min(e["t"] for e in a.evs("assigned") if e["t"] > resumed_at)
        # Judged by when a commit was sent: one acknowledged just before the freeze is only
        # logged after the process wakes up.
        zombie = [e for e in a.evs("commit") if e.get("ok") and paused_at < e.get("sent", e["t"]) < rejoined_at]
        assert not zombie, "commits from the expired member id were accepted: %r" % zombie[:3]
    finally:
        produced = prod.stop()
    wait_all_consumed([a, b], produced)
    # After waking up, the stale member may hand out records it fetched before it was
    # expelled, even after it has rejoined (Kafka does not fence fetches by membership;
    # librdkafka and kafka-python both do this): its repeats are excused. What the broker
    # owes is checked above (stale commits rejected, UNKNOWN_MEMBER_ID, a new member id);
    # here nothing may be lost and every value must be right.
    assert_delivery([a, b], produced, ignore=[(a.name, paused_at, float("inf"))])

if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "member":
        member_main(sys.argv[2:])
    else:
        sys.stderr.write("usage: group_helpers.py member JSON\n")
        raise SystemExit(2)
