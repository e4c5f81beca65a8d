#!/usr/bin/python3
"""Record the request frames real clients send, as a seed corpus for
fuzz_request: the broker is started with advertised.listeners pointing at a
recording proxy, so every client connection (bootstrap and the ones that
follow metadata) goes through it. Each client-to-broker frame is written,
without its size prefix, to tests/fuzz/corpus/request/<sha1>.

    /usr/bin/python3 tests/fuzz/capture_corpus.py [--out DIR]

Clients: kcat (metadata, produce with every codec, consume), librdkafka via
confluent-kafka (admin, producer, consumer), kafka-python (admin, producer,
consumer) and kafkajs (tests/js scripts). Re-run it when the broker serves
more APIs; the corpus only grows (files are named by content).
"""

import argparse
import hashlib
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAX_FRAME = 32 * 1024


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Recorder:
    def __init__(self, out):
        self.out = out
        self.count = 0
        self.lock = threading.Lock()

    def frames(self, buf):
        """Split complete frames off buf; returns (frames, rest)."""
        found = []
        while len(buf) >= 4:
            size = int.from_bytes(buf[:4], "big", signed=True)
            if size < 0 or len(buf) < 4 + size:
                break
            found.append(bytes(buf[4:4 + size]))
            buf = buf[4 + size:]
        return found, buf

    def save(self, frame):
        if len(frame) > MAX_FRAME:
            return
        name = hashlib.sha1(frame).hexdigest()
        path = os.path.join(self.out, name)
        with self.lock:
            if not os.path.exists(path):
                with open(path, "wb") as f:
                    f.write(frame)
                self.count += 1


def relay(client, upstream_port, rec):
    upstream = socket.create_connection(("127.0.0.1", upstream_port))
    pending = b""
    socks = [client, upstream]
    try:
        while True:
            ready, _, _ = select.select(socks, [], [], 30)
            if not ready:
                return
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                if s is client:
                    upstream.sendall(data)
                    frames, pending = rec.frames(pending + data)
                    for f in frames:
                        rec.save(f)
                else:
                    client.sendall(data)
    except OSError:
        return
    finally:
        client.close()
        upstream.close()


def serve_proxy(listener, upstream_port, rec, stop):
    listener.settimeout(0.2)
    while not stop.is_set():
        try:
            c, _ = listener.accept()
        except socket.timeout:
            continue
        threading.Thread(target=relay, args=(c, upstream_port, rec), daemon=True).start()


def run(cmd, **kw):
    subprocess.run(cmd, timeout=60, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def drive_clients(bootstrap):
    topic = "corpus-%d" % os.getpid()
    run(["kcat", "-b", bootstrap, "-L"])
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
        run(["kcat", "-b", bootstrap, "-t", topic, "-P", "-K:", "-z", codec, "-H", "h=v"],
            input=b"".join(b"k%d:v%d\n" % (i, i) for i in range(50)))
    run(["kcat", "-b", bootstrap, "-t", topic, "-C", "-e", "-o", "beginning"])
    run(["kcat", "-b", bootstrap, "-Q", "-t", "%s:0:1600000000000" % topic])

    try:
        from confluent_kafka import Consumer, Producer, TopicPartition
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": bootstrap})
        for f in admin.create_topics([NewTopic(topic + "-ck", 3, 1, config={"retention.ms": "3600000"})]).values():
            f.result(10)
        p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
        for i in range(100):
            p.produce(topic + "-ck", key=b"k%d" % i, value=b"v" * (i % 40), headers=[("i", b"%d" % i)])
        p.flush(10)
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "corpus", "enable.auto.commit": False})
        c.assign([TopicPartition(topic + "-ck", i, 0) for i in range(3)])
        c.consume(100, timeout=3)
        c.close()
        for f in admin.delete_topics([topic + "-ck"]).values():
            f.result(10)
    except Exception as e:  # the corpus is best effort; say what was skipped
        print("confluent-kafka part skipped: %s" % e, file=sys.stderr)

    try:
        import kafka
        kp = kafka.KafkaProducer(bootstrap_servers=bootstrap, acks="all")
        for i in range(20):
            kp.send(topic + "-kpy", key=b"kp%d" % i, value=b"x%d" % i, headers=[("a", b"b")])
        kp.flush(10)
        kp.close(5)
        kc = kafka.KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, consumer_timeout_ms=2000,
                                 auto_offset_reset="earliest")
        kc.assign([kafka.TopicPartition(topic + "-kpy", 0)])  # no snappy there: kafka-python lacks it
        kc.poll(timeout_ms=1000)
        kc.close()
        ka = kafka.KafkaAdminClient(bootstrap_servers=bootstrap)
        ka.create_topics([kafka.admin.NewTopic(topic + "-kp", 2, 1)])
        ka.delete_topics([topic + "-kp"])
        ka.close()
    except Exception as e:
        print("kafka-python part skipped: %s" % e, file=sys.stderr)

    js = os.path.join(ROOT, "tests", "js")
    if os.path.isdir(os.path.join(js, "node_modules", "kafkajs")):
        for script, args in [("admin.js", [topic + "-js"]), ("produce.js", [topic + "-js2", "none", "50"]),
                             ("offsets.js", [topic + "-js3"])]:
            try:
                run(["node", os.path.join(js, script), bootstrap] + args)
            except Exception as e:
                print("kafkajs %s skipped: %s" % (script, e), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fuzz", "corpus", "request"))
    ap.add_argument("--broker", default=os.environ.get("FJORD_BIN", os.path.join(ROOT, "build", "fjord")))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rec = Recorder(args.out)
    broker_port, proxy_port = free_port(), free_port()
    tmp = tempfile.mkdtemp(prefix="fjord-corpus-")
    proc = subprocess.Popen([args.broker, "server",
                             "--override", "listeners=PLAINTEXT://127.0.0.1:%d" % broker_port,
                             "--override", "advertised.listeners=PLAINTEXT://127.0.0.1:%d" % proxy_port,
                             "--override", "log.dirs=%s/data" % tmp], stderr=subprocess.DEVNULL)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", proxy_port))
    listener.listen(64)
    stop = threading.Event()
    th = threading.Thread(target=serve_proxy, args=(listener, broker_port, rec, stop), daemon=True)
    th.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", broker_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        drive_clients("127.0.0.1:%d" % proxy_port)
    finally:
        stop.set()
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        listener.close()
    print("%d new frames in %s" % (rec.count, args.out))


if __name__ == "__main__":
    main()
