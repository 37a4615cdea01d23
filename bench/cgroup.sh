#!/bin/sh
# cgroup.sh - the cost of the cgroup input at scale: creates 1000 docker-style cgroups (v1
# controllers cpu, cpuacct, memory, blkio, pids and the unified tree on a hybrid host such as
# this one; docker-<id>.scope under a slice on a v2 host), by default with one sleeping process
# in its own network namespace in each (as a container has), then runs sonde with the host
# inputs plus `cgroup` at a 200 ms interval, scraping /metrics once per cycle, and prints its
# CPU per cycle next to the same run without the cgroup input. Needs root; removes everything
# it created on exit. Usage: sh bench/cgroup.sh [path/to/sonde]
#   BENCH_CGROUPS=1000  BENCH_CGROUP_PROCS=1 (0: empty cgroups)  BENCH_CGROUP_CYCLES=50
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
sonde=${1:-$root/build/sonde}
case $sonde in /*) ;; *) sonde=$(pwd)/$sonde ;; esac
if [ "$(id -u)" != 0 ]; then
    echo "bench/cgroup.sh: needs root to create cgroups; skipped" >&2
    exit 0
fi
if [ ! -x "$sonde" ]; then
    echo "bench/cgroup.sh: $sonde is not an executable (run make first)" >&2
    exit 1
fi

# The driver is python3 (stdlib): it tracks every process and cgroup it creates and
# removes them on any exit, then ends its own children by pid.
exec timeout -k 10 "${BENCH_CGROUP_TIMEOUT:-240}" python3 - "$sonde" <<'EOF'
import http.client, os, random, signal, socket, subprocess, sys, tempfile, time

SONDE = sys.argv[1]
N = int(os.environ.get("BENCH_CGROUPS", "1000"))
PROCS = os.environ.get("BENCH_CGROUP_PROCS", "1") != "0"
CYCLES = int(os.environ.get("BENCH_CGROUP_CYCLES", "50"))
INTERVAL = 0.2
CG = "/sys/fs/cgroup"
created_dirs, children = [], []


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cleanup():
    for p in children:
        try:
            p.kill()
            p.wait(timeout=5)
        except Exception:
            pass
    for d in reversed(created_dirs):
        for _ in range(50):
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)  # a killed process still leaving its cgroup


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def mkdir(path):
    if not os.path.isdir(path):
        os.mkdir(path)
        created_dirs.append(path)


def layout():
    """The hierarchies where docker would create a container's cgroups."""
    if os.path.exists(CG + "/cgroup.controllers"):  # unified (v2) host
        parent = CG + "/sondebench.slice"
        mkdir(parent)
        with open(parent + "/cgroup.subtree_control", "w") as f:
            f.write(" ".join("+" + c for c in ("cpu", "io", "memory", "pids")
                             if c in open(CG + "/cgroup.controllers").read().split()))
        return [(parent, "docker-%s.scope")]
    dirs = [d for d in ("cpu", "cpuacct", "memory", "blkio", "pids", "unified")
            if os.path.isdir(CG + "/" + d)]
    if not dirs and os.path.isdir(CG + "/cpu,cpuacct"):
        dirs = ["cpu,cpuacct", "memory", "blkio", "pids"]
    out = []
    for d in dirs:
        mkdir(CG + "/" + d + "/docker")
        out.append((CG + "/" + d + "/docker", "%s"))
    return out


def create(hier):
    rnd = random.Random(42)
    for _ in range(N):
        cid = "%064x" % rnd.getrandbits(256)
        paths = []
        for parent, pattern in hier:
            p = parent + "/" + pattern % cid
            mkdir(p)
            paths.append(p)
        if PROCS:
            # The child joins the cgroups itself, then becomes `unshare -n sleep`: one
            # process in its own network namespace, as a container's init.
            def join(paths=paths):
                for p in paths:
                    with open(p + "/cgroup.procs", "w") as f:
                        f.write(str(os.getpid()))
            children.append(subprocess.Popen(["unshare", "-n", "sleep", "100000"],
                                             preexec_fn=join, stdin=subprocess.DEVNULL))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def task_ns(pid):
    """CPU time of every thread of `pid` so far (schedstat), in ns; None once it is gone."""
    total = 0
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total


def run(cgroup):
    """sonde --cycles CYCLES with the host inputs and, unless None, `cgroup: <cgroup>`."""
    port = free_port()
    inputs = "".join("  %s: {}\n" % i for i in
                     ("cpu", "mem", "swap", "system", "kernel", "net", "diskio", "disk"))
    if cgroup is not None:
        inputs += "  cgroup: %s\n" % cgroup
    cfg = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    cfg.write("agent: {interval: %dms}\nweb: {listen_address: \"127.0.0.1:%d\"}\n"
              "inputs:\n%soutputs: {}\n" % (INTERVAL * 1000, port, inputs))
    cfg.close()
    t0 = time.monotonic()
    p = subprocess.Popen([SONDE, "--config", cfg.name, "--cycles", str(CYCLES),
                          "--log.level", "error"], stdin=subprocess.DEVNULL)
    children.append(p)
    conn, scrapes, series, marks, hwm_kb = None, 0, 0, {}, 0
    deadline = t0 + CYCLES * INTERVAL + 60
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)  # rusage of sonde itself
        if pid:
            p.returncode = status
            break
        if time.monotonic() > deadline:
            raise SystemExit("sonde --cycles %d did not exit in time" % CYCLES)
        # Peak RSS: VmHWM, which only grows (wait4's ru_maxrss would be the forking
        # python's: exec keeps the larger high-water mark).
        try:
            with open("/proc/%d/status" % p.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm_kb = max(hwm_kb, int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            pass
        # once per cycle, midway between two ticks
        time.sleep(INTERVAL - (time.time() % INTERVAL) + INTERVAL / 2)
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/metrics")
            body = conn.getresponse().read()
            scrapes += 1
            series = sum(1 for l in body.split(b"\n") if l.startswith(b"container_"))
            if scrapes in (10, CYCLES - 5):  # steady state: start-up and exit left out
                marks[scrapes] = (task_ns(p.pid), time.monotonic())
        except (OSError, http.client.HTTPException):
            conn = None
    children.remove(p)
    os.unlink(cfg.name)
    if status != 0:
        raise SystemExit("sonde exited with status %d" % status)
    cpu = ru.ru_utime + ru.ru_stime
    steady = None
    if len(marks) == 2 and None not in (marks[10][0], marks[CYCLES - 5][0]):
        (c0, t0_), (c1, t1_) = marks[10], marks[CYCLES - 5]
        steady = (c1 - c0) / 1e6 / round((t1_ - t0_) / INTERVAL)
    return cpu / CYCLES * 1000.0, scrapes, series, hwm_kb, steady


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)
try:
    hier = layout()
    log("bench/cgroup: creating %d cgroups in %s%s" % (
        N, ", ".join(h[0] for h in hier), ", one process each" if PROCS else ""))
    t = time.monotonic()
    create(hier)
    log("bench/cgroup: created in %.1f s; sonde runs %d cycles at %d ms" % (
        time.monotonic() - t, CYCLES, INTERVAL * 1000))
    base = run(None)
    full = run("{}")
    psi = run("{pressure: true}")
    print("cgroup bench (%d containers%s, %d cycles at %d ms, one scrape per cycle; "
          "CPU = utime+stime of sonde, start-up included):" % (
              N, " with a process each" if PROCS else ", empty", CYCLES, INTERVAL * 1000))
    def steady(r):
        return "%7.2f" % r[4] if r[4] is not None else "    n/a"
    print("  %-32s   %-14s %-16s %s" % ("", "steady state", "whole run", "container_* samples"))
    for name, r in (("host inputs only", base), ("host + cgroup (defaults)", full),
                    ("host + cgroup {pressure: true}", psi)):
        print("  %-32s : %s ms/cycle %7.2f ms/cycle %6d (peak RSS %.1f MB)" % (
            name, steady(r), r[0], r[2], r[3] / 1024.0))
    print("  target: one cycle of host inputs + 1000 containers, one scrape: <= 30 ms CPU")
finally:
    cleanup()
EOF
