"""kwire: a small raw Kafka protocol client for tests that need exact bytes.

Request and response bodies are encoded and decoded by walking the JSON
message schemas in shared/kafka-protocol (schema/ for Kafka 4.x, schema-3.9/
for versions 4.x dropped), following the rules in RECORDS.md: big-endian
fixed-width integers, int16-length strings and int32-count arrays in
non-flexible versions, compact (varint length + 1) forms and tagged-field
sections in flexible ones. Bodies are plain dicts keyed by schema field names
("Topics", "NumPartitions", ...); missing fields take the schema default.

Record batches (magic 2) are built and parsed by hand (RECORDS.md section 5),
with a table-driven CRC-32C, so tests can craft bad ones (wrong CRC, too big).
"""

import json
import os
import re
import socket
import struct
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("FJORD_SHARED") or os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared"))
SCHEMA_DIRS = [os.path.join(SHARED, "kafka-protocol", "schema"),
               os.path.join(SHARED, "kafka-protocol", "schema-3.9")]

API_KEYS = {"Produce": 0, "Fetch": 1, "ListOffsets": 2, "Metadata": 3,
            "ApiVersions": 18, "CreateTopics": 19, "DeleteTopics": 20}

# Error codes the tests check (client-api-versions.md, "Error codes").
NONE = 0
OFFSET_OUT_OF_RANGE = 1
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
INVALID_TOPIC_EXCEPTION = 17
UNSUPPORTED_VERSION = 35
TOPIC_ALREADY_EXISTS = 36
INVALID_PARTITIONS = 37
INVALID_REPLICATION_FACTOR = 38
INVALID_CONFIG = 40
INVALID_REQUEST = 42

# ListOffsets special timestamps.
LATEST = -1
EARLIEST = -2
MAX_TIMESTAMP = -3


# ---------------------------------------------------------------- schemas

class Versions:
    """A schema version range: "3+", "0-5", "7", or "none"."""

    def __init__(self, text):
        text = (text or "none").strip()
        if text == "none":
            self.lo, self.hi = 1, 0
        elif text.endswith("+"):
            self.lo, self.hi = int(text[:-1]), 1 << 30
        elif "-" in text:
            lo, hi = text.split("-")
            self.lo, self.hi = int(lo), int(hi)
        else:
            self.lo = self.hi = int(text)

    def __contains__(self, v):
        return self.lo <= v <= self.hi


_schema_cache = {}


def load_schema(name, version=None):
    """The parsed schema `name` (e.g. "ProduceRequest") that covers `version`."""
    key = (name, version)
    if key not in _schema_cache:
        found = None
        for d in SCHEMA_DIRS:
            path = os.path.join(d, name + ".json")
            if not os.path.exists(path):
                continue
            with open(path) as f:
                text = "\n".join(l for l in f.read().splitlines() if not l.lstrip().startswith("//"))
            schema = json.loads(text)
            if version is None or version in Versions(schema["validVersions"]):
                found = schema
                break
        if found is None:
            raise KeyError("no schema %s covering version %s under %s" % (name, version, SCHEMA_DIRS))
        _schema_cache[key] = found
    return _schema_cache[key]


def is_flexible(name, version):
    return version in Versions(load_schema(name, version).get("flexibleVersions"))


def _default(field):
    d = field.get("default")
    t = field["type"]
    if d == "null":
        return None
    if t.startswith("[]"):
        return []
    if t == "bool":
        return d == "true"
    if t in ("string",):
        return d if d is not None else ""
    if t in ("bytes", "records"):
        return b""
    if t == "uuid":
        return bytes(16)
    if t in _FIXED or t == "float64":
        return int(d, 0) if d is not None else 0
    return {}  # a struct: its own fields take their defaults


# ---------------------------------------------------------------- primitives

_FIXED = {"int8": ">b", "int16": ">h", "int32": ">i", "int64": ">q", "uint16": ">H", "uint32": ">I"}


def uvarint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def varint(n):
    """Zig-zag signed varint (VARINT and VARLONG, as used inside records)."""
    return uvarint((n << 1) ^ (n >> 63))


class Reader:
    """A bounded reader over bytes; raises ValueError on a short buffer."""

    def __init__(self, data, pos=0):
        self.data, self.pos = data, pos

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("short buffer: need %d bytes at %d of %d" % (n, self.pos, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def fixed(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def uvarint(self):
        n = shift = 0
        while True:
            b = self.take(1)[0]
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                return n
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    def varint(self):
        n = self.uvarint()
        return (n >> 1) ^ -(n & 1)

    def remaining(self):
        return len(self.data) - self.pos


# ---------------------------------------------------------------- schema-driven codec

def _struct_fields(field, schema):
    """Sub-fields of a struct-typed field (inline, or from commonStructs)."""
    if "fields" in field:
        return field["fields"]
    tname = field["type"][2:] if field["type"].startswith("[]") else field["type"]
    for cs in schema.get("commonStructs", []):
        if cs["name"] == tname:
            return cs["fields"]
    raise KeyError("unknown struct type %s" % tname)


def _is_struct(field):
    t = field["type"][2:] if field["type"].startswith("[]") else field["type"]
    return t not in _FIXED and t not in ("bool", "string", "bytes", "records", "uuid", "float64")


def _encode_value(field, t, value, version, flexible, schema):
    nullable = version in Versions(field.get("nullableVersions"))
    flex = flexible and field.get("flexibleVersions") != "none"
    if t.startswith("[]"):
        if value is None:
            if not nullable:
                raise ValueError("%s is not nullable in v%d" % (field["name"], version))
            return uvarint(0) if flex else struct.pack(">i", -1)
        out = [uvarint(len(value) + 1) if flex else struct.pack(">i", len(value))]
        et = t[2:]
        for item in value:
            if _is_struct(field):
                out.append(encode_struct(_struct_fields(field, schema), item, version, flexible, schema))
            else:
                out.append(_encode_value(field, et, item, version, flexible, schema))
        return b"".join(out)
    if t in _FIXED:
        return struct.pack(_FIXED[t], value)
    if t == "bool":
        return b"\x01" if value else b"\x00"
    if t == "float64":
        return struct.pack(">d", value)
    if t == "uuid":
        return bytes(value)
    if t in ("string", "bytes", "records"):
        if value is None:
            if not nullable:
                raise ValueError("%s is not nullable in v%d" % (field["name"], version))
            if flex:
                return uvarint(0)
            return struct.pack(">h" if t == "string" else ">i", -1)
        raw = value.encode() if isinstance(value, str) else bytes(value)
        if flex:
            return uvarint(len(raw) + 1) + raw
        return struct.pack(">h" if t == "string" else ">i", len(raw)) + raw
    # A single (non-array) struct.
    return encode_struct(_struct_fields(field, schema), value or {}, version, flexible, schema)


def encode_struct(fields, value, version, flexible, schema):
    out, tagged = [], []
    for f in fields:
        if version not in Versions(f.get("versions")):
            continue
        v = value.get(f["name"], _default(f)) if isinstance(value, dict) else value
        if flexible and version in Versions(f.get("taggedVersions")):
            if f["name"] in value:  # tagged fields are written only when given
                tagged.append((f["tag"], _encode_value(f, f["type"], v, version, flexible, schema)))
            continue
        out.append(_encode_value(f, f["type"], v, version, flexible, schema))
    if flexible:
        out.append(uvarint(len(tagged)))
        for tag, data in sorted(tagged):
            out.append(uvarint(tag) + uvarint(len(data)) + data)
    return b"".join(out)


def _decode_value(field, t, r, version, flexible, schema):
    nullable = version in Versions(field.get("nullableVersions"))
    flex = flexible and field.get("flexibleVersions") != "none"
    if t.startswith("[]"):
        n = r.uvarint() - 1 if flex else r.fixed(">i")
        if n < 0:
            if not nullable:
                raise ValueError("null array for non-nullable %s" % field["name"])
            return None
        if _is_struct(field):
            return [decode_struct(_struct_fields(field, schema), r, version, flexible, schema) for _ in range(n)]
        return [_decode_value(field, t[2:], r, version, flexible, schema) for _ in range(n)]
    if t in _FIXED:
        return r.fixed(_FIXED[t])
    if t == "bool":
        return r.take(1) != b"\x00"
    if t == "float64":
        return r.fixed(">d")
    if t == "uuid":
        return r.take(16)
    if t in ("string", "bytes", "records"):
        if flex:
            n = r.uvarint() - 1
        else:
            n = r.fixed(">h" if t == "string" else ">i")
        if n < 0:
            if not nullable:
                raise ValueError("null value for non-nullable %s" % field["name"])
            return None
        raw = r.take(n)
        return raw.decode() if t == "string" else raw
    return decode_struct(_struct_fields(field, schema), r, version, flexible, schema)


def decode_struct(fields, r, version, flexible, schema):
    value, by_tag = {}, {}
    for f in fields:
        if version not in Versions(f.get("versions")):
            continue
        if flexible and version in Versions(f.get("taggedVersions")):
            by_tag[f["tag"]] = f
            value[f["name"]] = _default(f)
            continue
        value[f["name"]] = _decode_value(f, f["type"], r, version, flexible, schema)
    if flexible:
        for _ in range(r.uvarint()):
            tag, size = r.uvarint(), r.uvarint()
            data = r.take(size)
            if tag in by_tag:
                f = by_tag[tag]
                value[f["name"]] = _decode_value(f, f["type"], Reader(data), version, flexible, schema)
    return value


def encode_body(api, version, body, kind="Request"):
    schema = load_schema(api + kind, version)
    flexible = version in Versions(schema.get("flexibleVersions"))
    return encode_struct(schema["fields"], body, version, flexible, schema)


def decode_body(api, version, data, kind="Response"):
    schema = load_schema(api + kind, version)
    flexible = version in Versions(schema.get("flexibleVersions"))
    r = Reader(data)
    value = decode_struct(schema["fields"], r, version, flexible, schema)
    if r.remaining():
        raise ValueError("%d trailing bytes after %s%s v%d" % (r.remaining(), api, kind, version))
    return value


def request_header(api_key, version, correlation_id, client_id="kwire", flexible=False):
    cid = client_id.encode() if client_id is not None else None
    out = struct.pack(">hhi", api_key, version, correlation_id)
    out += struct.pack(">h", -1) if cid is None else struct.pack(">h", len(cid)) + cid
    if flexible:
        out += b"\x00"  # empty tagged-field section (request header v2)
    return out


def encode_request(api, version, body, correlation_id, client_id="kwire"):
    """A whole frame: int32 size, request header, body."""
    flexible = is_flexible(api + "Request", version)
    payload = request_header(API_KEYS[api], version, correlation_id, client_id, flexible) + \
        encode_body(api, version, body)
    return struct.pack(">i", len(payload)) + payload


def decode_response(api, version, payload):
    """(correlation_id, body) from a response frame without its size prefix."""
    r = Reader(payload)
    corr = r.fixed(">i")
    # Response header v1 (tags) when the response is flexible, except ApiVersions (always v0).
    if api != "ApiVersions" and is_flexible(api + "Response", version):
        for _ in range(r.uvarint()):
            r.uvarint()
            r.take(r.uvarint())
    return corr, decode_body(api, version, payload[r.pos:])


# ---------------------------------------------------------------- CRC-32C and record batches

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def encode_record(offset_delta, ts_delta, key, value, headers=()):
    body = b"\x00" + varint(ts_delta) + varint(offset_delta)
    for blob in (key, value):
        body += varint(-1) if blob is None else varint(len(blob)) + blob
    body += varint(len(headers))
    for hk, hv in headers:
        hk = hk.encode() if isinstance(hk, str) else hk
        body += varint(len(hk)) + hk
        body += varint(-1) if hv is None else varint(len(hv)) + hv
    return varint(len(body)) + body


def record_batch(records, base_timestamp=None, attributes=0, base_offset=0,
                 producer_id=-1, producer_epoch=-1, base_sequence=-1, corrupt_crc=False):
    """A magic-2 batch from records [(key, value, headers, timestamp_ms or None)].

    Uncompressed unless `attributes` says otherwise (then the caller must
    pass records already compressed... which these tests never do).
    """
    now = int(time.time() * 1000)
    stamps = [r[3] if len(r) > 3 and r[3] is not None else now for r in records]
    base_ts = base_timestamp if base_timestamp is not None else (stamps[0] if stamps else now)
    body = b"".join(encode_record(i, stamps[i] - base_ts, r[0], r[1], r[2] if len(r) > 2 else ())
                    for i, r in enumerate(records))
    after_crc = struct.pack(">hiqqqhii", attributes, len(records) - 1, base_ts,
                            max(stamps) if stamps else base_ts, producer_id, producer_epoch,
                            base_sequence, len(records)) + body
    crc = crc32c(after_crc)
    if corrupt_crc:
        crc ^= 0xDEADBEEF
    # batchLength counts everything after itself: epoch(4) magic(1) crc(4) + rest.
    return struct.pack(">qiibI", base_offset, 4 + 1 + 4 + len(after_crc), -1, 2, crc) + after_crc


def parse_batches(data):
    """Parse concatenated batches into dicts; a truncated tail batch is ignored.

    Records of uncompressed batches are decoded into "records":
    [{"offset", "timestamp", "key", "value", "headers"}]; compressed batches
    keep "records" = None (the tests only look at their attributes).
    """
    batches, pos = [], 0
    data = data or b""
    while len(data) - pos >= 61:
        base_offset, length = struct.unpack_from(">qi", data, pos)
        end = pos + 12 + length
        if length < 49 or end > len(data):
            break
        epoch, magic, crc = struct.unpack_from(">ibI", data, pos + 12)
        attrs, last_delta, base_ts, max_ts, pid, pepoch, bseq, count = \
            struct.unpack_from(">hiqqqhii", data, pos + 21)
        b = {"base_offset": base_offset, "length": length + 12, "leader_epoch": epoch, "magic": magic,
             "crc": crc, "crc_ok": crc32c(data[pos + 21:end]) == crc, "attributes": attrs,
             "codec": attrs & 7, "last_offset_delta": last_delta, "base_timestamp": base_ts,
             "max_timestamp": max_ts, "producer_id": pid, "record_count": count, "records": None}
        if attrs & 7 == 0:
            r, recs = Reader(data[pos + 61:end]), []
            for _ in range(count):
                n = r.varint()
                rr = Reader(r.take(n))
                rr.take(1)
                ts_delta, off_delta = rr.varint(), rr.varint()
                kl = rr.varint()
                key = rr.take(kl) if kl >= 0 else None
                vl = rr.varint()
                value = rr.take(vl) if vl >= 0 else None
                headers = []
                for _ in range(rr.varint()):
                    hk = rr.take(rr.varint()).decode()
                    hl = rr.varint()
                    headers.append((hk, rr.take(hl) if hl >= 0 else None))
                recs.append({"offset": base_offset + off_delta, "timestamp": base_ts + ts_delta,
                             "key": key, "value": value, "headers": headers})
            b["records"] = recs
        batches.append(b)
        pos = end
    return batches


# ---------------------------------------------------------------- connection

class Conn:
    """One TCP connection speaking framed requests. Not thread-safe."""

    def __init__(self, bootstrap, timeout=10.0):
        host, port = bootstrap.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.next_corr = 1
        self.pending = {}  # correlation id -> (api, version)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, api, version, body, correlation_id=None, client_id="kwire", expect_response=True):
        corr = self.next_corr if correlation_id is None else correlation_id
        self.next_corr = max(self.next_corr, corr) + 1
        self.sock.sendall(encode_request(api, version, body, corr, client_id))
        if expect_response:
            self.pending[corr] = (api, version)
        return corr

    def _recv_exact(self, n, deadline):
        buf = bytearray()
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out waiting for %d bytes (got %d)" % (n, len(buf)))
            self.sock.settimeout(left)
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed by broker")
            buf += chunk
        return bytes(buf)

    def recv_frame(self, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        (size,) = struct.unpack(">i", self._recv_exact(4, deadline))
        if size < 4 or size > 256 << 20:
            raise ValueError("bad response frame size %d" % size)
        return self._recv_exact(size, deadline)

    def recv(self, timeout=None):
        """(correlation_id, body) of the next response, decoded by what was sent."""
        payload = self.recv_frame(timeout)
        (corr,) = struct.unpack_from(">i", payload)
        if corr not in self.pending:
            raise ValueError("response with unexpected correlation id %d (pending %s)"
                             % (corr, sorted(self.pending)))
        api, version = self.pending.pop(corr)
        return decode_response(api, version, payload)

    def request(self, api, version, body, timeout=None):
        corr = self.send(api, version, body)
        got, resp = self.recv(timeout)
        assert got == corr, "correlation id %d != %d" % (got, corr)
        return resp

    def is_closed(self, timeout=5.0):
        """True if the broker closes the connection within `timeout` (data read is discarded)."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                if not self.sock.recv(65536):
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True  # reset by peer
        return False


# ---------------------------------------------------------------- request helpers

def produce_body(topic, partition, batch, acks=-1, timeout_ms=10000):
    return {"TransactionalId": None, "Acks": acks, "TimeoutMs": timeout_ms,
            "TopicData": [{"Name": topic, "PartitionData": [{"Index": partition, "Records": batch}]}]}


def produce(conn, topic, partition, batch, version=7, acks=-1):
    """Send one batch; returns the partition response dict."""
    resp = conn.request("Produce", version, produce_body(topic, partition, batch, acks))
    return resp["Responses"][0]["PartitionResponses"][0]


def fetch_body(topic, partition, offset, max_wait_ms=0, min_bytes=1, max_bytes=1 << 20):
    return {"ReplicaId": -1, "MaxWaitMs": max_wait_ms, "MinBytes": min_bytes, "MaxBytes": max_bytes,
            "IsolationLevel": 0, "SessionId": 0, "SessionEpoch": -1,
            "Topics": [{"Topic": topic, "Partitions": [{"Partition": partition, "FetchOffset": offset,
                                                        "PartitionMaxBytes": max_bytes}]}],
            "ForgottenTopicsData": [], "RackId": ""}


def fetch(conn, topic, partition, offset, version=11, **kw):
    """The partition dict of a Fetch response (with "batches" parsed from Records)."""
    resp = conn.request("Fetch", version, fetch_body(topic, partition, offset, **kw))
    part = resp["Responses"][0]["Partitions"][0]
    part["batches"] = parse_batches(part["Records"])
    return part


def list_offset(conn, topic, partition, timestamp, version=7):
    body = {"ReplicaId": -1, "IsolationLevel": 0,
            "Topics": [{"Name": topic, "Partitions": [{"PartitionIndex": partition, "Timestamp": timestamp}]}]}
    return conn.request("ListOffsets", version, body)["Topics"][0]["Partitions"][0]


def metadata(conn, topics=None, version=9, allow_auto_create=False):
    body = {"Topics": None if topics is None else [{"Name": t} for t in topics],
            "AllowAutoTopicCreation": allow_auto_create}
    return conn.request("Metadata", version, body)


def create_topics(conn, topics, version=4, validate_only=False, timeout_ms=10000):
    """topics: [(name, partitions, {config: value})]; returns {name: (error_code, message)}."""
    body = {"Topics": [{"Name": n, "NumPartitions": p, "ReplicationFactor": 1 if p > 0 else -1,
                        "Assignments": [],
                        "Configs": [{"Name": k, "Value": v} for k, v in (cfg or {}).items()]}
                       for n, p, cfg in topics],
            "timeoutMs": timeout_ms, "validateOnly": validate_only}
    resp = conn.request("CreateTopics", version, body)
    return {t["Name"]: (t["ErrorCode"], t.get("ErrorMessage")) for t in resp["Topics"]}


def delete_topics(conn, names, version=4, timeout_ms=10000):
    resp = conn.request("DeleteTopics", version, {"TopicNames": names, "TimeoutMs": timeout_ms})
    return {r["Name"]: r["ErrorCode"] for r in resp["Responses"]}


VALID_TOPIC = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")
