"""Fixtures for the integration tests: a real Fjord broker on a free loopback port.

    def test_x(broker):
        b = broker()                                   # defaults below
        b = broker({"auto.create.topics.enable": "false"})
        b.bootstrap, b.port, b.log_dir, b.stderr
        b.restart(); b.kill9(); b.start(); b.stop()

The binary is $FJORD_BIN, else <repo>/$BUILD/fjord (BUILD defaults to
"build"). Run the suite with Debian's interpreter, which has the client
packages: /usr/bin/python3 -m pytest tests/integration
"""

import itertools
import os
import re
import signal
import socket
import subprocess
import time

import pytest

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0

# What every test broker gets unless a test overrides it. Retention keeps
# Kafka's defaults (7 days, checked every 5 minutes): tests that produce
# records with old timestamps must not lose them; test_retention.py sets its own.
DEFAULT_PROPS = {
    "auto.create.topics.enable": "true",
    "num.partitions": "1",
    "fjord.http.listener": "127.0.0.1:0",  # metrics on a free port: brokers never collide
}


def broker_binary():
    path = os.environ.get("FJORD_BIN") or os.path.join(REPO, os.environ.get("BUILD", "build"), "fjord")
    return os.path.abspath(path)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Broker:
    """One broker process with its own data directory and config file."""

    def __init__(self, workdir, props):
        self.workdir = workdir
        self.port = free_port()
        self.bootstrap = "127.0.0.1:%d" % self.port
        self.log_dir = os.path.join(workdir, "data")
        os.makedirs(self.log_dir, exist_ok=True)
        self.props = dict(DEFAULT_PROPS)
        self.props.update(props or {})
        self.props["listeners"] = "PLAINTEXT://127.0.0.1:%d" % self.port
        self.props["log.dirs"] = self.log_dir
        self.config_path = os.path.join(workdir, "server.properties")
        with open(self.config_path, "w") as f:
            for k, v in self.props.items():
                f.write("%s=%s\n" % (k, v))
        self.proc = None
        self.runs = 0
        self.expected_exit = True  # False while running: a death we did not cause is a failure

    # -- lifecycle

    def start(self):
        assert self.proc is None or self.proc.poll() is not None, "broker already running"
        binary = broker_binary()
        if not os.access(binary, os.X_OK):
            pytest.fail("broker binary %s not found or not executable (run make, or set FJORD_BIN)" % binary)
        self.runs += 1
        err = open(self._stderr_path(self.runs), "wb")
        self.proc = subprocess.Popen([binary, "server", "-c", self.config_path], stdin=subprocess.DEVNULL,
                                     stdout=err, stderr=err, cwd=self.workdir)
        err.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail("broker exited with %s during startup; stderr:\n%s" % (self.proc.returncode, self.tail()))
            if port_accepts(self.port):
                self.expected_exit = False
                return self
            time.sleep(0.05)
        self._kill()
        pytest.fail("broker did not accept connections on port %d within %.0f s; stderr:\n%s"
                    % (self.port, START_TIMEOUT, self.tail()))

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM and wait for a clean exit; returns the exit code."""
        self.expected_exit = True
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            pytest.fail("broker did not exit within %.0f s of SIGTERM; stderr:\n%s" % (timeout, self.tail()))

    def kill9(self):
        """Crash the broker (SIGKILL) and wait for it to be gone."""
        self.expected_exit = True
        self._kill()

    def restart(self):
        """Clean stop (asserting exit code 0), then start on the same port and data."""
        rc = self.stop()
        assert rc == 0, "broker exited with %s on SIGTERM; stderr:\n%s" % (rc, self.tail())
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    # -- logs

    def _stderr_path(self, run):
        return os.path.join(self.workdir, "stderr.%d.log" % run)

    @property
    def stderr(self):
        """Everything the broker wrote to stderr (all runs, oldest first)."""
        parts = []
        for run in range(1, self.runs + 1):
            try:
                with open(self._stderr_path(run), "rb") as f:
                    parts.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "".join(parts)

    def http_port(self):
        """The port of /metrics and /health, from the broker's start-up line."""
        import re
        m = re.findall(r"HTTP listener on [^ ]*:(\d+)", self.stderr)
        assert m, "the broker logged no HTTP listener:\n" + self.tail()
        return int(m[-1])

    def tail(self, lines=40):
        return "\n".join(self.stderr.splitlines()[-lines:])

    # -- on-disk layout (ARCHITECTURE.md: one directory per partition)

    def partition_dir(self, topic, partition):
        return os.path.join(self.log_dir, "%s-%d" % (topic, partition))

    def segments(self, topic, partition):
        """Base offsets of the .log segments of a partition, sorted."""
        d = self.partition_dir(topic, partition)
        if not os.path.isdir(d):
            return []
        return sorted(int(n[:-4]) for n in os.listdir(d) if re.fullmatch(r"\d+\.log", n))


@pytest.fixture
def broker(tmp_path):
    """Factory: broker(props=None) starts a broker and returns it; all are killed at teardown."""
    started = []
    counter = itertools.count()

    def make(props=None, start=True):
        b = Broker(str(tmp_path / ("broker%d" % next(counter))), props)
        started.append(b)
        return b.start() if start else b

    yield make
    died = []
    for b in started:
        if not b.expected_exit and b.proc is not None and b.proc.poll() is not None:
            died.append("broker on port %d died unexpectedly (exit %s); stderr:\n%s"
                        % (b.port, b.proc.returncode, b.tail()))
        b._kill()
        if b.runs:
            print("---- broker %s stderr (tail) ----\n%s" % (b.bootstrap, b.tail(30)))
    if died:
        pytest.fail("\n".join(died))


@pytest.fixture(scope="module")
def _module_broker(request, tmp_path_factory):
    b = Broker(str(tmp_path_factory.mktemp("shared")), getattr(request.module, "BROKER_PROPS", None))
    b.start()
    yield b
    b._kill()


@pytest.fixture
def shared_broker(_module_broker):
    """One broker per test module (for tests that only add topics), configured
    by the module's BROKER_PROPS if it has one.

    Each test using it fails if the broker died during that test.
    """
    b = _module_broker
    if not b.alive():
        pytest.fail("shared broker is not running (exit %s); stderr:\n%s" % (b.proc.returncode, b.tail()))
    yield b
    if not b.alive():
        pytest.fail("shared broker died during the test (exit %s); stderr:\n%s" % (b.proc.returncode, b.tail()))


_topic_counter = itertools.count()


@pytest.fixture
def topic_name(request):
    """Factory: a fresh valid topic name derived from the test's name."""
    base = re.sub(r"[^a-zA-Z0-9]+", "-", request.node.name)[-60:].strip("-")

    def make(suffix=""):
        return "%s-%d%s" % (base, next(_topic_counter), suffix)

    return make
