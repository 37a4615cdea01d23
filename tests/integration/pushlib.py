"""pushlib.py - helpers shared by the push-output integration tests (python3 standard library
only): check reporting, a recording HTTP server that answers what the test tells it to,
snappy and remote_write protobuf decoding, sonde processes with their self-metrics, and the
line protocol a run printed on its stdout output (the record of what sonde sampled).
"""

import atexit
import gzip
import http.server as httpserver
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lineproto  # noqa: E402

FAILED = 0
PASSED = 0


def check(cond, desc, problems=()):
    """One check: prints "ok - DESC" or "not ok - DESC" and the problems as diagnostics."""
    global FAILED, PASSED
    if cond:
        PASSED += 1
        print("ok - " + desc, flush=True)
        return True
    FAILED += 1
    print("not ok - " + desc, flush=True)
    problems = list(problems)
    for p in problems[:25]:
        for line in str(p).splitlines() or [""]:
            print("#   " + line)
    if len(problems) > 25:
        print("#   ... and %d more" % (len(problems) - 25))
    sys.stdout.flush()
    return False


def note(msg):
    for line in str(msg).splitlines() or [""]:
        print("# " + line)
    sys.stdout.flush()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(seconds, cond, step=0.1):
    """Polls cond() until it is true or `seconds` pass; returns its last value."""
    deadline = time.monotonic() + seconds
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def http(method, url, body=None, headers=None, timeout=10):
    """Returns (status, body bytes, headers); status 0 when nothing answered."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers
    except (OSError, urllib.error.URLError):
        return 0, b"", {}


# ---------------------------------------------------------------- snappy, protobuf

def unsnappy(data):
    """Decompresses a snappy block (the format remote_write uses, not the framed one)."""
    n, i, shift = 0, 0, 0
    while True:
        c = data[i]
        i += 1
        n |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            break
    out = bytearray()
    while i < len(data):
        tag = data[i]
        i += 1
        kind = tag & 3
        if kind == 0:  # literal
            ln = tag >> 2
            if ln >= 60:
                nb = ln - 59
                ln = int.from_bytes(data[i:i + nb], "little")
                i += nb
            ln += 1
            out += data[i:i + ln]
            i += ln
            continue
        if kind == 1:
            ln = ((tag >> 2) & 7) + 4
            off = ((tag >> 5) << 8) | data[i]
            i += 1
        elif kind == 2:
            ln = (tag >> 2) + 1
            off = int.from_bytes(data[i:i + 2], "little")
            i += 2
        else:
            ln = (tag >> 2) + 1
            off = int.from_bytes(data[i:i + 4], "little")
            i += 4
        if off == 0 or off > len(out):
            raise ValueError("snappy: bad copy offset %d at %d" % (off, len(out)))
        for _ in range(ln):  # copies may overlap their own output
            out.append(out[-off])
    if len(out) != n:
        raise ValueError("snappy: %d bytes decoded, header said %d" % (len(out), n))
    return bytes(out)


def _varint(b, i):
    v, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def pb_fields(b):
    """(field number, wire type, value) of a protobuf message: int for varints, bytes for
    length-delimited fields, raw 8 or 4 bytes for fixed64 / fixed32."""
    i, out = 0, []
    while i < len(b):
        key, i = _varint(b, i)
        field, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 2:
            ln, i = _varint(b, i)
            v, i = b[i:i + ln], i + ln
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("protobuf: wire type %d" % wt)
        out.append((field, wt, v))
    if i != len(b):
        raise ValueError("protobuf: message overruns its end")
    return out


STALE_BITS = 0x7FF0000000000002


def decode_write_request(raw):
    """A remote_write WriteRequest -> list of (labels [(name, value)] in wire order,
    samples [(value, value bits, timestamp ms)])."""
    series = []
    for field, wt, v in pb_fields(raw):
        if field != 1 or wt != 2:
            continue
        labels, samples = [], []
        for f2, w2, v2 in pb_fields(v):
            if f2 == 1 and w2 == 2:
                name = value = ""
                for f3, w3, v3 in pb_fields(v2):
                    if f3 == 1:
                        name = v3.decode()
                    elif f3 == 2:
                        value = v3.decode()
                labels.append((name, value))
            elif f2 == 2 and w2 == 2:
                value, bits, ts = 0.0, 0, 0
                for f3, w3, v3 in pb_fields(v2):
                    if f3 == 1 and w3 == 1:
                        bits = struct.unpack("<Q", v3)[0]
                        value = struct.unpack("<d", v3)[0]
                    elif f3 == 2 and w3 == 0:
                        ts = v3 - (1 << 64) if v3 >= 1 << 63 else v3
                samples.append((value, bits, ts))
        series.append((labels, samples))
    return series


# ---------------------------------------------------------------- recording server

class Request:
    """One request the recording server answered."""

    def __init__(self, handler, body):
        self.t = time.monotonic()  # arrival, after the body was read
        self.method = handler.command
        url = urllib.parse.urlsplit(handler.path)
        self.path = url.path
        self.raw_query = url.query
        self.query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        self.headers = {k.lower(): v for k, v in handler.headers.items()}
        self.body = body
        self.data = None  # decoded body (gunzip, snappy), None if it did not decode
        self.decode_error = ""
        enc = self.headers.get("content-encoding", "")
        try:
            if enc == "gzip":
                self.data = gzip.decompress(body)
            elif enc == "snappy":
                self.data = unsnappy(body)
            else:
                self.data = body
        except Exception as e:  # a bad body is a finding, never a crash of the server
            self.decode_error = "%s: %s" % (type(e).__name__, e)
        self.status = None

    def lines(self):
        """Line protocol lines of the decoded body."""
        if self.data is None:
            return []
        return [ln for ln in self.data.decode("utf-8", "replace").split("\n") if ln]


class Recorder:
    """A loopback HTTP server recording every request. Answers come from `plan` (a list
    consumed one per request; each item a dict {status, headers, body, delay (seconds
    before answering)} or a function of the Request returning one), then from `default`."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.plan = []
        self.default = {"status": 204}
        rec = self

        class Handler(httpserver.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0") or 0)
                body = self.rfile.read(n) if n else b""
                req = Request(self, body)
                with rec.lock:
                    spec = rec.plan.pop(0) if rec.plan else rec.default
                    if callable(spec):
                        spec = spec(req)
                    req.status = spec.get("status", 204)
                    rec.requests.append(req)
                if spec.get("delay"):  # a slow or hung backend
                    time.sleep(spec["delay"])
                payload = spec.get("body", "")
                if isinstance(payload, str):
                    payload = payload.encode()
                self.send_response(req.status)
                for k, v in spec.get("headers", {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                if payload:
                    self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)

            do_PUT = do_POST

        self.server = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def reset(self, plan=(), default=None):
        with self.lock:
            self.requests = []
            self.plan = list(plan)
            self.default = default or {"status": 204}

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- sonde

PROCS = []


def _cleanup():
    for p in list(PROCS):
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(_cleanup)  # an exception must not leave a sonde running


def run_scenarios(scenarios, *args):
    """Runs each scenario function; one that raises is one failed check, and the next
    one still runs."""
    import traceback
    for scenario in scenarios:
        t0 = time.monotonic()
        try:
            scenario(*args)
        except Exception:  # a broken scenario is reported, never fatal to the others
            check(False, "%s ran to its end" % scenario.__name__,
                  traceback.format_exc().splitlines()[-12:])
        note("%s took %.1fs" % (scenario.__name__, time.monotonic() - t0))
        _cleanup()


def install_signal_cleanup():
    """SIGTERM/SIGINT (the harness's timeout) end the sonde processes this script started."""
    def on_signal(signum, _frame):
        _cleanup()
        sys.exit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


class Sonde:
    """One sonde daemon started on a config file; stdout and stderr go to files in tmp."""

    def __init__(self, binary, tmp, name, config, port=None, args=()):
        self.name = name
        self.port = port
        self.cfg = os.path.join(tmp, name + ".yaml")
        with open(self.cfg, "w") as f:
            f.write(config)
        self.out = os.path.join(tmp, name + ".out")
        self.err = os.path.join(tmp, name + ".err")
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.p = subprocess.Popen([binary, "--config", self.cfg] + list(args),
                                      stdin=subprocess.DEVNULL, stdout=o, stderr=e)
        PROCS.append(self.p)

    def alive(self):
        return self.p.poll() is None

    def metrics(self):
        """Self-metrics scraped from the endpoint: {'name{labels}': value}; {} on failure."""
        status, body, _ = http("GET", "http://127.0.0.1:%d/metrics" % self.port, timeout=5)
        if status != 200:
            return {}
        return scrape_values(body.decode())

    def wait_ready(self, seconds=10):
        return wait_until(seconds, lambda: (not self.alive()) or bool(self.metrics())) and \
            self.alive()

    def stop(self, sig=signal.SIGTERM, seconds=15):
        """Signals sonde and waits (bounded); returns the exit status (None: had to kill)."""
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                PROCS.remove(self.p)
                return None
        if self.p in PROCS:
            PROCS.remove(self.p)
        return self.p.returncode

    def stderr(self):
        with open(self.err, errors="replace") as f:
            return f.read()

    def stdout_lines(self):
        """Complete line-protocol lines printed by the stdout output."""
        with open(self.out, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        return [ln for ln in text.split("\n")[:-1] if ln]


SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(\s+-?\d+)?$')


def scrape_values(text):
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def parse_labels(s):
    """'{a="x",b="y\\"z"}' -> {'a': 'x', 'b': 'y"z'} (the exposition format's escapes)."""
    labels, i = {}, 1
    while i < len(s) - 1:
        j = s.index("=", i)
        name = s[i:j].strip().lstrip(",")
        i = j + 2  # past ="
        val = []
        while s[i] != '"':
            if s[i] == "\\":
                i += 1
                val.append({"n": "\n", "\\": "\\", '"': '"'}.get(s[i], "\\" + s[i]))
            else:
                val.append(s[i])
            i += 1
        labels[name] = "".join(val)
        i += 1
        if i < len(s) and s[i] == ",":
            i += 1
    return labels


def scrape_series(text):
    """/metrics text -> {(name, frozenset(labels.items())): value}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            continue
        labels = parse_labels(m.group(2)) if m.group(2) else {}
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(3))
    return out


def self_metric(values, name, output=None, inp=None):
    if output is not None:
        return values.get('%s{output="%s"}' % (name, output))
    if inp is not None:
        return values.get('%s{input="%s"}' % (name, inp))
    return values.get(name)


# ---------------------------------------------------------------- line protocol

class Line:
    def __init__(self, text):
        self.text = text
        self.measurement, self.tags, self.fields, ts = lineproto.parse_line(text)
        self.ts = int(ts) if ts is not None else None

    def key(self):
        """InfluxDB's point identity: measurement, tags, timestamp."""
        return (self.measurement, tuple(sorted(self.tags.items())), self.ts)


def parse_lines(texts):
    out, bad = [], []
    for t in texts:
        try:
            out.append(Line(t))
        except lineproto.LineError as e:
            bad.append("%s: %r" % (e, t[:200]))
    return out, bad


def rounds_of(lines, mem_reads):
    """The lines of the first `mem_reads` rounds: what a self-metrics snapshot taken after
    that many reads of mem accounts for. mem must be the first input of the configuration:
    a round reads it first, so round k+1 starts at mem's (k+1)-th timestamp (inputs that
    printed nothing in a round, as cpu on its first, need no special case)."""
    stamps = sorted(set(ln.ts for ln in lines if ln.measurement == "mem"))
    if mem_reads < len(stamps):
        cut = stamps[mem_reads]
        return [ln for ln in lines if ln.ts < cut]
    return list(lines)


def done():
    print("# pushlib: %d passed, %d failed" % (PASSED, FAILED))
    _cleanup()
    return 1 if FAILED else 0
