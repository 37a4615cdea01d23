#!/usr/bin/env python3
# bench.py - drives sonde, node_exporter, collectd, the read-files floor and wrk on loopback and
# prints the comparison report (called by bench/run.sh; stdlib only). Every child is tracked
# and ended by its pid on any exit; every wait has a deadline.

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

CHILDREN = []  # Popen objects still to be ended on exit
CLK_TCK = os.sysconf("SC_CLK_TCK")
INTERVAL = 0.2  # collection interval and scrape period, seconds

# The node_exporter collectors behind sonde's default inputs (the host set).
NE_EQUIV = ["--collector.disable-defaults"] + ["--collector." + c for c in (
    "cpu", "meminfo", "loadavg", "stat", "netdev", "diskstats", "filesystem", "vmstat",
    "netstat", "sockstat", "softnet", "udp_queues", "arp", "conntrack", "netclass", "hwmon",
    "thermal_zone", "powersupplyclass", "cpufreq", "timex", "time", "uname", "os", "filefd",
    "entropy", "pressure", "schedstat", "textfile")]
# The core host inputs (the first set sonde had) and the node_exporter collectors that export
# the same Prometheus series; the "host" tier is the whole default configuration against
# NE_EQUIV. (sonde's swap input feeds line protocol only; node_exporter's vmstat, which would
# carry swap traffic, is left out, which only makes node_exporter cheaper.)
CORE_INPUTS = ["cpu", "mem", "swap", "system", "kernel", "net", "diskio", "disk"]
CORE_ARGS = ["--collector.disable-defaults"] + ["--collector." + i for i in CORE_INPUTS]
NE_CORE = ["--collector.disable-defaults"] + ["--collector." + c for c in (
    "cpu", "meminfo", "loadavg", "stat", "netdev", "diskstats", "filesystem")]
# Filesystem types node_exporter's filesystem collector skips by default; collectd's df plugin
# is told to skip the same, so both stat the same filesystems.
SKIP_FS = ["autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts",
           "devtmpfs", "fusectl", "hugetlbfs", "iso9660", "mqueue", "nsfs", "overlay", "proc",
           "procfs", "pstore", "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs",
           "tracefs"]


class BenchError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes

def spawn(argv, logpath):
    with open(logpath, "ab") as out:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    CHILDREN.append(p)
    return p


def stop(p, grace=5.0):
    """SIGTERM, then SIGKILL after `grace` seconds; always reaps."""
    if p.returncode is None:
        try:
            p.terminate()
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)
        except ProcessLookupError:
            pass
    if p in CHILDREN:
        CHILDREN.remove(p)


def cleanup():
    for p in list(CHILDREN):
        try:
            stop(p, grace=2.0)
        except Exception:  # keep ending the others
            pass


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------- /proc readings

def cpu_ns(pid):
    """(sum of the live threads' run time from schedstat in ns, utime+stime from stat in ns,
    set of thread ids). schedstat has ns resolution but forgets exited threads; stat counts
    them but only in clock ticks (10 ms)."""
    total, tids = 0, set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
            tids.add(tid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return total, ticks * 1e9 / CLK_TCK, tids


def cpu_delta_us(before, after):
    """CPU between two cpu_ns() readings, in us, and the method used: schedstat unless a
    thread exited in between (then its time is lost there, so use the tick counts)."""
    if before[2] <= after[2]:
        return (after[0] - before[0]) / 1e3, "schedstat"
    return (after[1] - before[1]) / 1e3, "stat ticks"


def mem_kb(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    return out.get("VmRSS", 0), out.get("VmHWM", 0)


# ---------------------------------------------------------------- HTTP

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_CONNECTIONS = {}


def scrape(port, path="/metrics", gzip=False, timeout=10):
    """One GET on the port's kept-alive connection, as a Prometheus server
    scrapes (reconnecting when the server closed it); returns (status, body
    bytes, content-encoding)."""
    headers = {"Accept": "text/plain"}
    if gzip:
        headers["Accept-Encoding"] = "gzip"
    for attempt in (0, 1):
        conn = _CONNECTIONS.get(port)
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            _CONNECTIONS[port] = conn
        try:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            body = r.read()
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                _CONNECTIONS.pop(port, None)
            return r.status, len(body), r.getheader("Content-Encoding", "")
        except (OSError, http.client.HTTPException):
            conn.close()
            _CONNECTIONS.pop(port, None)
            if attempt:
                raise


def wait_http(port, p, path="/", timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise BenchError(f"{p.args[0]} exited with {p.returncode} before serving")
        try:
            if scrape(port, path, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise BenchError(f"{p.args[0]} did not answer on port {port} within {timeout}s")


def sleep_to_slot(offset):
    """Sleeps to the next wall-clock instant that is `offset` past a multiple of INTERVAL.
    sonde aligns its ticks to multiples of the interval, so offset INTERVAL/2 scrapes midway
    between two collections: one scrape per cycle."""
    now = time.time()
    target = now - now % INTERVAL + offset
    if target <= now + 0.005:
        target += INTERVAL
    time.sleep(target - now)


def paced_scrapes(port, n, gzip=False):
    """n scrapes, one per INTERVAL; returns (ok count, last body size, encodings seen)."""
    ok, size, enc = 0, 0, set()
    for _ in range(n):
        sleep_to_slot(INTERVAL / 2)
        status, size, e = scrape(port, gzip=gzip)
        ok += status == 200
        enc.add(e or "identity")
    return ok, size, enc


# ---------------------------------------------------------------- sonde

def sonde_argv(a, port, interval, cycles=None, extra=()):
    argv = [a.sonde, "--interval", f"{int(interval * 1000)}ms",
            "--web.listen-address", f"127.0.0.1:{port}", "--log.level", "warn"]
    if a.config:
        argv += ["--config", a.config]
    if cycles:
        argv += ["--cycles", str(cycles)]
    return argv + list(extra)


def sonde_cycles(a, cycles, do_scrape=True, gzip=False, extra=()):
    """Runs sonde for `cycles` rounds at INTERVAL, scraping once per cycle, and returns its
    CPU from wait4's rusage (every thread, start to exit), its peak RSS (VmHWM, polled every
    cycle until exit) and a steady-state window measured from schedstat between the 5th and
    the (cycles-5)th scrape."""
    port = free_port()
    p = spawn(sonde_argv(a, port, INTERVAL, cycles, extra), a.logdir + "/sonde.log")
    deadline = time.monotonic() + cycles * INTERVAL + 20
    res = {"cycles": cycles, "scrapes": 0, "scrape_errors": 0, "bytes": 0, "encodings": set(),
           "hwm_kb": 0}
    mark = {}
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            CHILDREN.remove(p)
            break
        if time.monotonic() > deadline:
            stop(p)
            raise BenchError(f"sonde --cycles {cycles} did not exit in time")
        try:  # peak RSS: VmHWM only grows, so the last reading before exit is the peak
            res["hwm_kb"] = max(res["hwm_kb"], mem_kb(p.pid)[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
        if not do_scrape:
            time.sleep(0.01)
            continue
        sleep_to_slot(INTERVAL / 2)
        try:
            st, size, enc = scrape(port, gzip=gzip, timeout=5)
        except OSError:
            res["scrape_errors"] += 1  # the first and the last slot may miss the listener
            continue
        if st != 200:
            res["scrape_errors"] += 1
            continue
        res["scrapes"] += 1
        res["bytes"] = size
        res["encodings"].add(enc or "identity")
        if res["scrapes"] in (5, cycles - 5) and cycles > 20:
            try:
                mark[res["scrapes"]] = (cpu_ns(p.pid), time.time())
            except FileNotFoundError:
                pass
    if p.returncode != 0:
        raise BenchError(f"sonde exited with {p.returncode}; see {a.logdir}/sonde.log")
    res["cpu_us"] = (ru.ru_utime + ru.ru_stime) * 1e6
    # wait4's ru_maxrss is not sonde's: exec keeps the larger of the old and the new image's
    # high-water mark, and the old image is the forking python (~20 MB). Kept for the record.
    res["ru_maxrss_kb"] = ru.ru_maxrss
    res["per_cycle_us"] = res["cpu_us"] / cycles
    if len(mark) == 2:
        (c0, t0), (c1, t1) = mark[5], mark[cycles - 5]
        n = round((t1 - t0) / INTERVAL)
        us, how = cpu_delta_us(c0, c1)
        res["steady_us"], res["steady_cycles"], res["steady_method"] = us / n, n, how
    res["encodings"] = sorted(res["encodings"])
    return res


def sonde_startup(a, runs=3):
    """CPU of a --cycles 1 run (start, one round, exit): subtracted for the marginal cost."""
    vals = [sonde_cycles(a, 1, do_scrape=False)["cpu_us"] for _ in range(runs)]
    return statistics.median(vals)


# ---------------------------------------------------------------- node_exporter

def ne_start(a, args, name):
    port = free_port()
    p = spawn([a.node_exporter, f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
              + args, f"{a.logdir}/{name}.log")
    wait_http(port, p, "/")
    for _ in range(5):  # warm-up: first scrapes allocate and fill caches
        scrape(port)
    return p, port


def windowed(p, port, n, gzip=False):
    """CPU of the server over n paced scrapes; returns a result dict."""
    c0 = cpu_ns(p.pid)
    ok, size, enc = paced_scrapes(port, n, gzip)
    c1 = cpu_ns(p.pid)
    us, how = cpu_delta_us(c0, c1)
    rss, hwm = mem_kb(p.pid)
    if ok != n:
        raise BenchError(f"{p.args[0]}: {n - ok} of {n} scrapes failed")
    return {"scrapes": n, "per_scrape_us": us / n, "method": how, "bytes": size,
            "encodings": sorted(enc), "rss_kb": rss, "hwm_kb": hwm}


# ---------------------------------------------------------------- wrk

def run_wrk(a, p, port):
    c0 = cpu_ns(p.pid)
    cmd = [a.wrk, f"-t{a.wrk_threads}", f"-c{a.wrk_conns}", f"-d{a.wrk_secs}s",
           f"http://127.0.0.1:{port}/metrics"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=a.wrk_secs + 30).stdout
    c1 = cpu_ns(p.pid)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if not m or not total:
        raise BenchError("wrk output not understood:\n" + out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    lat = re.search(r"Latency\s+(\S+)", out)
    us, _ = cpu_delta_us(c0, c1)
    rss, hwm = mem_kb(p.pid)
    return {"rps": float(m.group(1)), "requests": int(total.group(1)),
            "non2xx": int(bad.group(1)) if bad else 0, "socket_errors": errs.group(1) if errs else "",
            "latency_avg": lat.group(1) if lat else "?",
            "server_cpu_us_per_req": us / max(1, int(total.group(1))), "rss_kb": rss,
            "hwm_kb": hwm}


# ---------------------------------------------------------------- collectd

def collectd_conf(d, variant, port):
    skip = "\n".join(f'  FSType "{t}"' for t in SKIP_FS)
    conf = f"""Hostname "bench"
FQDNLookup false
BaseDir "{d}"
PIDFile "{d}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval {INTERVAL}
LoadPlugin logfile
<Plugin logfile>
  LogLevel warning
  File STDERR
</Plugin>
LoadPlugin cpu
LoadPlugin memory
LoadPlugin interface
LoadPlugin disk
LoadPlugin df
LoadPlugin load
<Plugin df>
{skip}
  IgnoreSelected true
</Plugin>
"""
    if variant == "cache":
        # Values reach collectd's value cache, then the chain stops before any write plugin
        # (with no write plugin at all collectd logs an error for every value).
        conf += 'PostCacheChain "PostCache"\n<Chain "PostCache">\n  Target "stop"\n</Chain>\n'
    elif variant == "csv":
        conf += f'LoadPlugin csv\n<Plugin csv>\n  DataDir "{d}/csv"\n  StoreRates false\n</Plugin>\n'
    elif variant == "prom":
        conf += (f'LoadPlugin write_prometheus\n<Plugin write_prometheus>\n  Host "127.0.0.1"\n'
                 f'  Port "{port}"\n</Plugin>\n')
    return conf


def csv_rows(d):
    n = 0
    for root, _dirs, files in os.walk(d + "/csv"):
        for f in files:
            if "/load" in root:
                with open(os.path.join(root, f), "rb") as fh:
                    n += max(0, fh.read().count(b"\n") - 1)  # minus the header line
    return n


def run_collectd(a, variant, window):
    d = f"{a.tmpdir}/collectd-{variant}"
    os.makedirs(d, exist_ok=True)
    port = free_port()
    with open(d + "/collectd.conf", "w") as f:
        f.write(collectd_conf(d, variant, port))
    p = spawn([a.collectd, "-f", "-C", d + "/collectd.conf"], f"{a.logdir}/collectd-{variant}.log")
    try:
        if variant == "prom":
            wait_http(port, p, "/metrics")
        time.sleep(2)  # past start-up and the first reads
        if p.poll() is not None:
            raise BenchError(f"collectd exited with {p.returncode}")
        n = round(window / INTERVAL)
        rows0 = csv_rows(d) if variant == "csv" else 0
        c0, t0 = cpu_ns(p.pid), time.time()
        if variant == "prom":
            ok, size, _ = paced_scrapes(port, n)
        else:
            time.sleep(n * INTERVAL)
        c1, t1 = cpu_ns(p.pid), time.time()
        us, how = cpu_delta_us(c0, c1)
        cycles = round((t1 - t0) / INTERVAL)
        res = {"cycles": cycles, "per_cycle_us": us / cycles, "method": how}
        if variant == "csv":
            res["rows"] = csv_rows(d) - rows0  # load rows written: one per completed cycle
        if variant == "prom":
            res["scrapes_ok"], res["bytes"] = ok, size
        res["rss_kb"], res["hwm_kb"] = mem_kb(p.pid)
        return res
    finally:
        stop(p)


# ---------------------------------------------------------------- floor

RE_PREAD = re.compile(r"^\d+ +pread64\(\d+<(.*?)>, .*, (\d+)\) = \d+")
RE_OPEN = re.compile(r'^\d+ +openat\((?:AT_FDCWD|\d+)(?:<[^>]*>)?, "(?:[^"\\]|\\.)*", '
                     r"([A-Z_|0-9]+)(?:, 0?\d+)?\) = \d+<(.*)>$")
RE_STATFS = re.compile(r'^\d+ +statfs\("((?:[^"\\]|\\.)*)", .*\) = 0')
RE_NLSTATS = re.compile(r"^\d+ +sendto\(\d+<[^>]*>, \[?\{nlmsg_len=\d+, nlmsg_type=RTM_GETSTATS")


def floor_list(a, name, extra=(), window=3.0):
    """The files a running sonde reads per cycle, from its system calls (strace attached for
    `window` seconds after start-up): a readfiles --list file with one "KIND PATH" line per
    path read in at least half of the cycles (each once, even where sonde read it twice).
    Returns (list path, counts per kind) or None when strace is missing."""
    if not a.strace:
        return None
    port = free_port()
    p = spawn(sonde_argv(a, port, INTERVAL, extra=extra), f"{a.logdir}/{name}-trace.log")
    trace = f"{a.tmpdir}/{name}.strace"
    try:
        wait_http(port, p, "/metrics")
        time.sleep(1.0)  # past start-up: every file kept open is open
        subprocess.run(["timeout", "-s", "INT", str(window), a.strace, "-f", "-qq", "-y",
                        "-p", str(p.pid), "-e", "trace=openat,pread64,statfs,sendto", "-o", trace],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=window + 20)
        pid = p.pid
    finally:
        stop(p)
    seen = {}
    with open(trace, errors="replace") as f:
        for line in f:
            m = RE_PREAD.match(line)
            if m and m.group(2) == "0":
                key = ("p", m.group(1))
            elif (m := RE_OPEN.match(line)):
                key = ("d" if "O_DIRECTORY" in m.group(1) else "o", m.group(2))
            elif (m := RE_STATFS.match(line)):
                key = ("s", m.group(1))
            elif RE_NLSTATS.match(line):
                key = ("n", "RTM_GETSTATS")  # the interfaces' counters over rtnetlink
            else:
                continue
            path = re.sub(rf"^/proc/{pid}/", "/proc/self/", key[1])
            seen[(key[0], path)] = seen.get((key[0], path), 0) + 1
    need = window / INTERVAL / 2
    keep = {k for k, n in seen.items() if n >= need}
    # A file opened each cycle and then read with pread is one read, not two.
    keep -= {("p", path) for kind, path in keep if kind == "o"}
    out = f"{a.tmpdir}/{name}.files"
    with open(out, "w") as f:
        for kind, path in sorted(keep):
            f.write(f"{kind} {path}\n")
    counts = {k: sum(1 for kind, _ in keep if kind == k) for k in "podsn"}
    if not keep:
        raise BenchError(f"strace saw no file read by sonde ({trace})")
    return out, counts


def parse_readfiles(out):
    """readfiles' report: per file or per kind costs, and the per-round figures."""
    res = {"files": {}, "kinds": {}}
    for line in out.splitlines():
        parts = line.split()
        if parts[0] == "file":
            res["files"][parts[1]] = float(parts[2])
        elif parts[0] == "kind":
            res["kinds"][parts[1]] = (int(parts[2]), float(parts[3]))
        elif parts[0] == "cpu_us_per_iteration":
            res["hot_us"] = float(parts[1])
        elif parts[0] == "paced_cpu_us_per_iteration":
            res["per_iter_us"] = float(parts[1])
        elif parts[0] == "paced_iterations":
            res["paced_iters"] = int(parts[1])
        elif parts[0] == "mounts":
            res["mounts"] = int(parts[1])
    return res


def run_floor_list(a, listfile, counts):
    out = subprocess.run([a.readfiles, "--list", listfile, str(a.floor_iters),
                          str(round(INTERVAL * 1000))],
                         capture_output=True, text=True, timeout=180, check=True).stdout
    return dict(parse_readfiles(out), counts=counts, list=listfile)


def request_floor(a, server, size, n):
    """CPU per request of `server` (bench/answer or answer_mhd), which only answers each request
    with a body of `size` bytes built once, over n paced scrapes: the least a scrape of that
    size costs, with epoll alone or with libmicrohttpd."""
    port = free_port()
    p = spawn([server, str(port), str(size)], f"{a.logdir}/answer.log")
    try:
        wait_http(port, p)
        return windowed(p, port, n)
    finally:
        stop(p)


def run_floor(a):
    out = subprocess.run([a.readfiles, str(a.floor_iters), str(round(INTERVAL * 1000))],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    return parse_readfiles(out)


# ---------------------------------------------------------------- push outputs

class _Discard:
    """A loopback HTTP server that reads each request and answers 204: the cost of sending
    without a backend's ingestion behind it. Runs in a thread of this process, whose CPU
    is never counted."""

    def __init__(self):
        import http.server as hs
        import threading

        class Handler(hs.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = hs.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def http_status(port, method, path, body=None, timeout=5):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        r.read()
        return r.status
    except OSError:
        return 0
    finally:
        conn.close()


def start_influxd(a):
    d = f"{a.tmpdir}/influxd"
    os.makedirs(d, exist_ok=True)
    port, rpc = free_port(), free_port()
    with open(d + "/influxdb.conf", "w") as f:
        f.write(f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{d}/meta"
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
[ifql]
  enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "warn"
""")
    p = spawn([a.influxd, "run", "-config", d + "/influxdb.conf"], f"{a.logdir}/influxd.log")
    deadline = time.monotonic() + 30
    while http_status(port, "GET", "/ping") != 204:
        if p.poll() is not None or time.monotonic() > deadline:
            stop(p)
            raise BenchError("influxd did not answer /ping")
        time.sleep(0.1)
    if http_status(port, "POST", "/query", b"q=CREATE+DATABASE+bench") != 200:
        stop(p)
        raise BenchError("influxd: CREATE DATABASE failed")
    return p, port


def start_vm(a):
    port = free_port()
    p = spawn([a.victoria_metrics, f"-httpListenAddr=127.0.0.1:{port}",
               f"-storageDataPath={a.tmpdir}/vm", "-loggerLevel=ERROR"], f"{a.logdir}/vm.log")
    wait_http(port, p, "/health", timeout=30)
    return p, port


def run_pushbench(a, name, output_yaml, server=None):
    """Median of a.push_runs runs of pushbench; CPU of the server process over each run
    (schedstat) as context."""
    path = f"{a.tmpdir}/push-{name}.yaml"
    with open(path, "w") as f:
        f.write(output_yaml)
    runs = []
    for _ in range(a.push_runs):
        c0 = cpu_ns(server.pid) if server else None
        out = subprocess.run([a.pushbench, path, str(a.push_samples)], capture_output=True,
                             text=True, timeout=300)
        c1 = cpu_ns(server.pid) if server else None
        if out.returncode != 0:
            raise BenchError(f"pushbench {name} failed ({out.returncode}): "
                             f"{out.stderr.strip()[-500:]} {out.stdout.strip()[-300:]}")
        res = json.loads(out.stdout.strip().splitlines()[-1])
        million = res["samples"] / 1e6
        res["cpu_per_m"] = res["cpu_s"] / million
        res["encode_per_m"] = res["encode_cpu_s"] / million
        res["send_per_m"] = (res["cpu_s"] - res["encode_cpu_s"]) / million
        if server:
            us, how = cpu_delta_us(c0, c1)
            res["server_per_m"], res["server_method"] = us / 1e6 / million, how
        runs.append(res)
    runs.sort(key=lambda x: x["cpu_per_m"])
    med = dict(runs[len(runs) // 2])
    med["all_cpu_per_m"] = [round(x["cpu_per_m"], 3) for x in runs]
    return med


def push_bench(a):
    """CPU to encode and send one million samples, for each push format, through the real
    encoders, queue and sender thread (bench/pushbench.c)."""
    res = {}
    common = "      flush_interval: 100ms\n"
    disc = _Discard()
    influx = vm = None
    try:
        durl = f"http://127.0.0.1:{disc.port}"
        if a.influxd and os.access(a.influxd, os.X_OK):
            log("bench: push: influxd")
            influx, iport = start_influxd(a)
            log(f"bench: push: line protocol to InfluxDB 1.x, {a.push_samples} samples "
                f"x{a.push_runs}")
            res["lp_influx"] = run_pushbench(
                a, "lp-influx", f"outputs:\n  influxdb:\n    - url: http://127.0.0.1:{iport}\n"
                f"      database: bench\n{common}", influx)
            stop(influx)
            influx = None
        else:
            res["notes"] = res.get("notes", []) + ["influxd not installed: no InfluxDB run"]
        log("bench: push: line protocol to a discard server (gzip, then none)")
        res["lp_discard"] = run_pushbench(
            a, "lp-discard", f"outputs:\n  influxdb:\n    - url: {durl}\n      database: b\n"
            f"{common}")
        res["lp_discard_nogzip"] = run_pushbench(
            a, "lp-discard-nogzip", f"outputs:\n  influxdb:\n    - url: {durl}\n"
            f"      database: b\n      gzip: false\n{common}")
        if a.victoria_metrics and os.access(a.victoria_metrics, os.X_OK):
            log("bench: push: victoria-metrics")
            vm, vport = start_vm(a)
            log(f"bench: push: remote_write to VictoriaMetrics, {a.push_samples} samples "
                f"x{a.push_runs}")
            res["rw_vm"] = run_pushbench(
                a, "rw-vm", f"outputs:\n  remote_write:\n    - url: "
                f"http://127.0.0.1:{vport}/api/v1/write\n{common}", vm)
            stop(vm)
            vm = None
        else:
            res["notes"] = res.get("notes", []) + ["victoria-metrics not installed: no run"]
        log("bench: push: remote_write to a discard server")
        res["rw_discard"] = run_pushbench(
            a, "rw-discard", f"outputs:\n  remote_write:\n    - url: {durl}/api/v1/write\n"
            f"{common}")
    finally:
        disc.close()
        for p in (influx, vm):
            if p is not None:
                stop(p)
    return res


PUSH_ROWS = [("lp_influx", "line protocol, gzip -> InfluxDB 1.x"),
             ("lp_discard", "line protocol, gzip -> discard server"),
             ("lp_discard_nogzip", "line protocol, no gzip -> discard server"),
             ("rw_vm", "remote_write, snappy -> VictoriaMetrics"),
             ("rw_discard", "remote_write, snappy -> discard server")]


def report_push(r, a):
    pr = r.get("push")
    if not pr:
        return []
    lines = ["", f"push outputs: sonde's CPU to encode and send 1M samples (median of "
             f"{a.push_runs}; a sample is one field value of a line, or one remote_write "
             f"sample)",
             f"  {'format -> backend':40} {'CPU s/1M':>9} {'encode':>7} {'send':>6} "
             f"{'wall s':>7} {'requests':>9} {'MB raw':>7} {'backend CPU s/1M':>17}"]
    if "error" in pr:
        lines.append(f"  failed: {pr['error']}")
        return lines
    for key, label in PUSH_ROWS:
        x = pr.get(key)
        if not x:
            continue
        server = f"{x['server_per_m']:.2f}" if "server_per_m" in x else ""
        lines.append(f"  {label:40} {x['cpu_per_m']:>9.3f} {x['encode_per_m']:>7.3f} "
                     f"{x['send_per_m']:>6.3f} {x['wall_s']:>7.2f} {x['requests']:>9} "
                     f"{x['encoded_bytes'] / 1e6:>7.1f} {server:>17}")
    lp = pr.get("lp_discard") or {}
    rw = pr.get("rw_discard") or {}
    if lp and rw:
        lines.append(f"  ({lp['samples_per_round']} line-protocol values in "
                     f"{lp['records'] // max(1, lp['rounds'])} lines, and "
                     f"{rw['samples_per_round']} remote_write samples, per round of the "
                     f"default inputs; encode = the collection thread's CPU, send = the rest: "
                     f"compression, HTTP, the sender thread; runs: "
                     + ", ".join(f"{k} {pr[k]['all_cpu_per_m']}" for k, _ in PUSH_ROWS
                                 if k in pr) + ")")
    for n in pr.get("notes", []):
        lines.append("  note: " + n)
    return lines


# ---------------------------------------------------------------- report

def fmt_us(v):
    return "n/a" if v is None else (f"{v:.1f}" if v < 1000 else f"{v:.0f}")


def mb(kb):
    return kb / 1024.0


def report(r, a):
    s, ne, ned, fl = r["sonde"], r["ne_equiv"], r["ne_default"], r["floor"]
    w = r["wrk"]
    cd = r.get("collectd", {})
    lines = []
    add = lines.append
    add("")
    add(f"== sonde benchmark  ({r['env']['host']}, {r['env']['cpus']} CPUs, kernel "
        f"{r['env']['kernel']}, interval {int(INTERVAL * 1000)} ms, {r['env']['date']})")
    add(f"   CPU time: wait4 rusage for sonde runs, else per-thread schedstat deltas (ns); "
        f"perf: {r['env']['perf']}")
    add("")
    add(f"{'what':46} {'CPU us':>9} {'per':>8} {'RSS MB':>7} {'peak MB':>8} {'body':>8}")
    add("-" * 91)

    def row(name, us, per, rss=None, hwm=None, body=None):
        add(f"{name:46} {fmt_us(us):>9} {per:>8} "
            f"{'' if rss is None else f'{mb(rss):.1f}':>7} "
            f"{'' if hwm is None else f'{mb(hwm):.1f}':>8} "
            f"{'' if body is None else f'{body / 1024:.0f}K':>8}")

    row(f"sonde total/cycles ({s['cycles']} cycles, {s['scrapes']} scrapes)",
        s["per_cycle_us"], "cycle", None, s["hwm_kb"], s["bytes"])
    row(f"sonde marginal (minus start-up {fmt_us(r['sonde_startup_us'])} us)",
        r["sonde_marginal_us"], "cycle")
    if "steady_us" in s:
        row(f"sonde steady window ({s['steady_cycles']} cycles, {s['steady_method']})",
            s["steady_us"], "cycle")
    sg = r["sonde_gzip"]
    sn = r["sonde_noscrape"]
    row(f"sonde, no scrapes ({sn['cycles']} cycles)", sn["per_cycle_us"], "cycle", None,
        sn["hwm_kb"])
    row(f"sonde, gzip scrapes ({sg['cycles']} cycles)", sg["per_cycle_us"], "cycle", None,
        sg["hwm_kb"], sg["bytes"])
    row("node_exporter, equivalent collectors", ne["per_scrape_us"], "scrape", ne["rss_kb"],
        ne["hwm_kb"], ne["bytes"])
    neg = r["ne_equiv_gzip"]
    row("node_exporter, equivalent, gzip scrapes", neg["per_scrape_us"], "scrape",
        neg["rss_kb"], neg["hwm_kb"], neg["bytes"])
    row("node_exporter, default collectors", ned["per_scrape_us"], "scrape", ned["rss_kb"],
        ned["hwm_kb"], ned["bytes"])
    for v, label in (("cache", "collectd, no writer (values to cache)"),
                     ("csv", "collectd, csv writer"),
                     ("prom", "collectd, write_prometheus + 1 scrape")):
        c = cd.get(v)
        if c is None:
            continue
        if "error" in c:
            add(f"{label:46} failed: {c['error']}")
            continue
        row(label, c["per_cycle_us"], "cycle", c["rss_kb"], c["hwm_kb"], c.get("bytes"))
    row(f"floor: read files, 1 round/{int(INTERVAL * 1000)} ms (x{fl['paced_iters']})",
        fl["per_iter_us"], "round")
    row(f"floor: back to back (x{a.floor_iters}, hot caches)", fl["hot_us"], "round")
    add("")
    add(f"floor files: stat meminfo vmstat loadavg uptime net/dev diskstats 1/mountinfo "
        f"entropy_avail + statvfs of {fl.get('mounts', 0)} filesystems")
    add("floor breakdown (hot), us per read: " + ", ".join(
        f"{k} {v:.1f}" for k, v in fl["files"].items()))
    if r.get("notes"):
        add("")
        for n in r["notes"]:
            add("note: " + n)
    add("")
    add(f"wrk -t{a.wrk_threads} -c{a.wrk_conns} -d{a.wrk_secs}s  {'req/s':>9} {'requests':>9} "
        f"{'non-2xx':>8} {'latency':>8} {'server us/req':>14} {'peak MB':>8}")
    for name, k in (("sonde (interval 1s)", "sonde"), ("node_exporter equivalent", "ne")):
        x = w[k]
        add(f"  {name:28} {x['rps']:>9.0f} {x['requests']:>9} {x['non2xx']:>8} "
            f"{x['latency_avg']:>8} {x['server_cpu_us_per_req']:>14.1f} {mb(x['hwm_kb']):>8.1f}"
            + (f"  socket errors: {x['socket_errors']}" if x["socket_errors"] else ""))

    lines += report_push(r, a)

    sx = s["per_cycle_us"]
    ratio_ne = ne["per_scrape_us"] / sx
    ratio_ned = ned["per_scrape_us"] / sx
    ratio_floor = sx / fl["per_iter_us"]
    ratio_wrk = w["sonde"]["rps"] / w["ne"]["rps"]
    peak = mb(s["hwm_kb"])
    c = cd.get("cache", {})
    add("")
    add("== summary")
    add(f"  sonde  CPU/cycle  {fmt_us(sx)} us   peak RSS  {peak:.1f} MB   "
        f"(steady {fmt_us(s.get('steady_us'))} us, marginal {fmt_us(r['sonde_marginal_us'])} us)")
    add(f"  node_exporter CPU/scrape  {fmt_us(ne['per_scrape_us'])} us (ratio {ratio_ne:.1f}x)"
        f"   RSS {mb(ne['rss_kb']):.1f} MB   [defaults: {fmt_us(ned['per_scrape_us'])} us, "
        f"{ratio_ned:.1f}x, RSS {mb(ned['rss_kb']):.1f} MB]")
    add(f"  floor (read files)  {fmt_us(fl['per_iter_us'])} us (sonde/floor {ratio_floor:.1f}x)"
        f"   [back to back: {fmt_us(fl['hot_us'])} us, {sx / fl['hot_us']:.1f}x]")
    add(f"  wrk: sonde {w['sonde']['rps']:.0f} req/s, node_exporter {w['ne']['rps']:.0f} req/s "
        f"(ratio {ratio_wrk:.1f}x)")
    if "per_cycle_us" in c:
        add(f"  collectd CPU/cycle {fmt_us(c['per_cycle_us'])} us (collectd/sonde "
            f"{c['per_cycle_us'] / sx:.1f}x; csv writer "
            f"{fmt_us(cd.get('csv', {}).get('per_cycle_us'))} us, write_prometheus+scrape "
            f"{fmt_us(cd.get('prom', {}).get('per_cycle_us'))} us)")
    else:
        add(f"  collectd CPU/cycle n/a ({c.get('error', 'not run')})")
    tiers = tier_rows(r)
    if tiers:
        add("")
        add("== per input set: CPU per cycle (one scrape per cycle; steady window, after start-up "
            "as node_exporter's after its warm-up) against node_exporter's per scrape and the "
            "floor of the same files")
        add(f"  {'inputs':6} {'sonde us':>9} {'(total/cycles)':>14} {'node_exporter us':>17} "
            f"{'ne/sonde':>9} {'floor us':>9} {'sonde/floor':>12}  files read (p kept open, "
            f"o opened, d dirs, s statvfs, n netlink dumps)")
        for t in tiers:
            fl = t["floor"]
            add(f"  {t['name']:6} {fmt_us(t['sonde']):>9} {fmt_us(t['sonde_total']):>14} "
                f"{fmt_us(t['ne']):>17} "
                f"{t['ne'] / t['sonde']:>8.1f}x {fmt_us(fl and fl['per_iter_us']):>9} "
                f"{(t['sonde'] / fl['per_iter_us']) if fl else float('nan'):>11.1f}x  "
                + (" ".join(f"{k}{v}" for k, v in fl["counts"].items()) if fl else "n/a"))
        bounds = [f"{t['name']} {t['ne'] / t['floor']['per_iter_us']:.1f}x" for t in tiers
                  if t["floor"]]
        if bounds:
            add("  node_exporter / floor, the most any collector that reads these files can be "
                "below node_exporter: " + ", ".join(bounds))
        both = [t for t in tiers if t["floor"] and t["answer"]]
        if both:
            add("  with a request floor added to the files' floor (a server that only answers the "
                "same paced scrapes with a body of the same size, built once: bench/answer over "
                "epoll, bench/answer_mhd over libmicrohttpd):")
            for t in both:
                files = t["floor"]["per_iter_us"]
                parts = []
                for label, key in (("epoll", "answer"), ("libmicrohttpd", "answer_mhd")):
                    if t[key]:
                        whole = files + t[key]
                        parts.append(f"{label} {fmt_us(t[key])} us: files + request "
                                     f"{fmt_us(whole)} us, node_exporter / that "
                                     f"{t['ne'] / whole:.1f}x, sonde / that "
                                     f"{t['sonde'] / whole:.1f}x")
                add(f"    {t['name']:6} " + "; ".join(parts))
            add("  (node_exporter / (files + request) is the most that an exporter of these "
                "files, answering these scrapes, can be below node_exporter)")
    add("")
    targets = [("peak RSS < 8 MB", peak < 8.0, f"{peak:.1f} MB"),
               ("wrk req/s sonde >= 10x node_exporter", ratio_wrk >= 10, f"{ratio_wrk:.1f}x")]
    for t in tiers:
        targets.append((f"{t['name']}: node_exporter CPU/scrape >= 10x sonde CPU/cycle",
                        t["ne"] / t["sonde"] >= 10, f"{t['ne'] / t['sonde']:.1f}x"))
        if t["floor"] and t["name"] == "host":
            ratio = t["sonde"] / t["floor"]["per_iter_us"]
            targets.append(("host: sonde CPU/cycle within 3x of the floor", ratio <= 3,
                            f"{ratio:.1f}x"))
    for name, ok, val in targets:
        add(f"  target {name:48} {'MET' if ok else 'NOT MET':8} ({val})")
    r["summary"] = {"sonde_us": sx, "sonde_peak_mb": peak, "ne_us": ne["per_scrape_us"],
                    "ratio_ne": ratio_ne, "floor_us": fl["per_iter_us"],
                    "ratio_floor": ratio_floor, "wrk_sonde": w["sonde"]["rps"],
                    "wrk_ne": w["ne"]["rps"], "ratio_wrk": ratio_wrk,
                    "collectd_us": c.get("per_cycle_us"),
                    "targets_met": all(t[1] for t in targets)}
    for t in tiers:
        r["summary"][f"{t['name']}_sonde_us"] = t["sonde"]
        r["summary"][f"{t['name']}_sonde_total_us"] = t["sonde_total"]
        r["summary"][f"{t['name']}_ne_us"] = t["ne"]
        if t["floor"]:
            r["summary"][f"{t['name']}_floor_us"] = t["floor"]["per_iter_us"]
        if t["answer"]:
            r["summary"][f"{t['name']}_request_floor_us"] = t["answer"]
        if t["answer_mhd"]:
            r["summary"][f"{t['name']}_request_floor_mhd_us"] = t["answer_mhd"]
    r["summary"].update(push_summary(r))
    return "\n".join(lines)


def tier_rows(r):
    """The core and host input sets side by side (absent parts left out). sonde's figure is
    its steady window, as node_exporter's is taken after its warm-up scrapes; the whole run
    divided by the cycles (start-up included) is kept beside it."""
    rows = []
    for name, sk, nk in (("core", "sonde_core", "ne_core"), ("host", "sonde", "ne_equiv")):
        if sk in r and nk in r:
            answer, mhd = r.get("answer_" + name), r.get("answer_mhd_" + name)
            rows.append({"name": name, "sonde": r[sk].get("steady_us", r[sk]["per_cycle_us"]),
                         "sonde_total": r[sk]["per_cycle_us"],
                         "ne": r[nk]["per_scrape_us"], "floor": r.get("floor_" + name),
                         "answer": answer and answer["per_scrape_us"],
                         "answer_mhd": mhd and mhd["per_scrape_us"]})
    return rows


def push_summary(r):
    pr = r.get("push") or {}
    return {k + "_cpu_per_m": pr[k]["cpu_per_m"] for k, _ in PUSH_ROWS
            if isinstance(pr.get(k), dict)}


def compare_previous(r, outdir, current):
    prev = sorted(f for f in os.listdir(outdir) if f.startswith("result-") and f != current)
    if not prev:
        return ""
    with open(os.path.join(outdir, prev[-1])) as f:
        p = json.load(f).get("summary", {})
    keys = [("sonde_us", "sonde us/cycle"), ("ne_us", "node_exporter us/scrape"),
            ("floor_us", "floor us"), ("wrk_sonde", "wrk sonde req/s"),
            ("wrk_ne", "wrk node_exporter req/s"), ("collectd_us", "collectd us/cycle"),
            ("sonde_peak_mb", "sonde peak MB"), ("core_sonde_us", "core: sonde us/cycle"),
            ("core_ne_us", "core: node_exporter us"), ("core_floor_us", "core: floor us"),
            ("host_floor_us", "host: floor us"),
            ("core_request_floor_us", "core: request floor us"),
            ("host_request_floor_us", "host: request floor us"),
            ("core_request_floor_mhd_us", "core: request floor MHD us"),
            ("host_request_floor_mhd_us", "host: request floor MHD us")] + [
        (k + "_cpu_per_m", "push " + k + " CPU s/1M") for k, _ in PUSH_ROWS]
    out = [f"== against the previous run ({prev[-1]})"]
    for k, name in keys:
        a, b = p.get(k), r["summary"].get(k)
        if a and b:
            out.append(f"  {name:26} {a:10.1f} -> {b:10.1f}  ({(b - a) / a * 100:+.1f}%)")
    return "\n".join(out)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sonde", required=True)
    ap.add_argument("--config")
    ap.add_argument("--readfiles", required=True)
    ap.add_argument("--answer", help="bench/answer (built by run.sh): the request floor")
    ap.add_argument("--answer-mhd", help="bench/answer_mhd: the same over libmicrohttpd")
    ap.add_argument("--node-exporter", default="/usr/bin/prometheus-node-exporter")
    ap.add_argument("--collectd", default="/usr/sbin/collectd")
    ap.add_argument("--wrk", default="/usr/bin/wrk")
    ap.add_argument("--strace", default=shutil.which("strace"))
    ap.add_argument("--tmpdir", required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--perf", default="not checked")
    ap.add_argument("--cycles", type=int, default=100)
    ap.add_argument("--scrapes", type=int, default=100)
    ap.add_argument("--floor-iters", type=int, default=1000)
    ap.add_argument("--collectd-secs", type=float, default=12)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--wrk-conns", type=int, default=8)
    ap.add_argument("--wrk-secs", type=int, default=10)
    ap.add_argument("--pushbench", help="bench/pushbench (built by run.sh); none: no push runs")
    ap.add_argument("--push-only", action="store_true", help="only the push outputs' part")
    ap.add_argument("--push-samples", type=int, default=1000000)
    ap.add_argument("--push-runs", type=int, default=5)
    ap.add_argument("--influxd", default="/usr/bin/influxd")
    ap.add_argument("--victoria-metrics", default="/usr/bin/victoria-metrics")
    a = ap.parse_args()
    a.logdir = a.tmpdir
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    u = os.uname()
    r = {"env": {"host": u.nodename, "kernel": u.release, "cpus": os.cpu_count(),
                 "date": time.strftime("%Y-%m-%d %H:%M:%S"), "perf": a.perf},
         "notes": []}
    t_start = time.monotonic()
    if a.push_only:
        return push_only(a, r, t_start)
    try:
        log("bench: floor (read files)")
        r["floor"] = run_floor(a)
        for tier, extra in (("host", ()), ("core", CORE_ARGS)):
            log(f"bench: the files sonde reads per cycle ({tier} inputs, strace) and the floor")
            fl = floor_list(a, tier, extra)
            if fl:
                r["floor_" + tier] = run_floor_list(a, *fl)
            else:
                r["notes"].append("strace is missing: no floor of the files sonde reads")
        log("bench: sonde start-up (--cycles 1, x3)")
        r["sonde_startup_us"] = sonde_startup(a)
        log(f"bench: sonde, {a.cycles} cycles at {INTERVAL}s, one scrape per cycle")
        r["sonde"] = sonde_cycles(a, a.cycles)
        r["sonde_marginal_us"] = (r["sonde"]["cpu_us"] - r["sonde_startup_us"]) / (a.cycles - 1)
        log(f"bench: sonde, core inputs, {a.cycles} cycles, one scrape per cycle")
        r["sonde_core"] = sonde_cycles(a, a.cycles, extra=CORE_ARGS)
        for key, server in (("answer_", a.answer), ("answer_mhd_", a.answer_mhd)):
            for tier, sk in (("host", "sonde"), ("core", "sonde_core")):
                if server:
                    log(f"bench: request floor ({os.path.basename(server)}, {tier} body, "
                        f"{r[sk]['bytes']} bytes), {a.scrapes // 2} scrapes")
                    r[key + tier] = request_floor(a, server, r[sk]["bytes"], a.scrapes // 2)
        log(f"bench: sonde, {a.cycles // 2} cycles, no scrapes")
        r["sonde_noscrape"] = sonde_cycles(a, a.cycles // 2, do_scrape=False)
        log(f"bench: sonde, {a.cycles // 2} cycles, gzip scrapes")
        r["sonde_gzip"] = sonde_cycles(a, a.cycles // 2, gzip=True)

        log("bench: node_exporter, equivalent collectors")
        p, port = ne_start(a, NE_EQUIV, "ne-equiv")
        try:
            r["ne_equiv"] = windowed(p, port, a.scrapes)
            r["ne_equiv_gzip"] = windowed(p, port, a.scrapes // 2, gzip=True)
            log(f"bench: wrk against node_exporter ({a.wrk_secs}s)")
            ne_wrk = run_wrk(a, p, port)
        finally:
            stop(p)
        log("bench: node_exporter, the core inputs' collectors")
        p, port = ne_start(a, NE_CORE, "ne-core")
        try:
            r["ne_core"] = windowed(p, port, a.scrapes)
        finally:
            stop(p)
        log("bench: node_exporter, default collectors")
        p, port = ne_start(a, [], "ne-default")
        try:
            r["ne_default"] = windowed(p, port, a.scrapes)
        finally:
            stop(p)

        log(f"bench: wrk against sonde ({a.wrk_secs}s)")
        port = free_port()
        p = spawn(sonde_argv(a, port, 1.0), a.logdir + "/sonde-wrk.log")
        try:
            wait_http(port, p, "/metrics")
            r["wrk"] = {"sonde": run_wrk(a, p, port), "ne": ne_wrk}
        finally:
            stop(p)

        r["collectd"] = {}
        for variant in ("cache", "csv", "prom"):
            log(f"bench: collectd ({variant}), {a.collectd_secs}s")
            try:
                r["collectd"][variant] = run_collectd(a, variant, a.collectd_secs)
            except (BenchError, OSError, subprocess.SubprocessError) as e:
                r["collectd"][variant] = {"error": str(e)}
        csv = r["collectd"].get("csv", {})
        if "rows" in csv:
            r["notes"].append(f"collectd csv wrote {csv['rows']} load rows in a "
                              f"{csv['cycles']}-cycle window (checks it really reads every "
                              f"{INTERVAL}s)")
        s = r["sonde"]
        r["notes"].append(f"sonde run: {s['scrapes']} scrapes answered for {s['cycles']} cycles "
                          f"({s['scrape_errors']} slots missed at start/exit); encodings "
                          f"{','.join(s['encodings'])} / gzip run "
                          f"{','.join(r['sonde_gzip']['encodings'])}")
        r["notes"].append(f"node_exporter scrapes paced one per {INTERVAL}s like sonde's; "
                          f"CPU method {r['ne_equiv']['method']}")
        if a.pushbench:
            try:
                r["push"] = push_bench(a)
            except (BenchError, OSError, subprocess.SubprocessError, ValueError) as e:
                r["push"] = {"error": str(e)}
    except BenchError as e:
        log(f"bench: FAILED: {e}")
        return 1
    finally:
        cleanup()
    r["elapsed_s"] = time.monotonic() - t_start
    text = report(r, a)
    print(text)
    print(f"\n(bench took {r['elapsed_s']:.0f}s)")
    os.makedirs(a.outdir, exist_ok=True)
    name = time.strftime("result-%Y%m%d-%H%M%S.json")
    cmp = compare_previous(r, a.outdir, name)
    if cmp:
        print("\n" + cmp)
    with open(os.path.join(a.outdir, name), "w") as f:
        json.dump(r, f, indent=1, default=list)
    print(f"results: {os.path.join(a.outdir, name)}")
    return 0


def push_only(a, r, t_start):
    """--push-only: the push outputs' part alone (quicker, for work on the senders)."""
    try:
        r["push"] = push_bench(a)
    except BenchError as e:
        log(f"bench: FAILED: {e}")
        return 1
    finally:
        cleanup()
    print("\n".join(report_push(r, a)))
    print(f"\n(bench took {time.monotonic() - t_start:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
