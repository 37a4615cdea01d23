"""cgroup_check.py - checks what sonde's cgroup input reports for the containers
test_cgroup.sh made, against what their processes did (python3 standard library only):
two scrapes WAIT seconds apart give CPU rates; memory, limits, throttling, network, PIDs,
pressure, names and the line protocol of `sonde --once` are compared with what the
burners were told to do. Prints "ok - " / "not ok - " lines.

Usage: python3 cgroup_check.py URL A_ID B_ID LXC_ID MIB LIMIT NET LP_FILE [WAIT]
  A_ID runs one burner (MIB MiB held) with memory limit LIMIT bytes and pids.max 100,
  named "web" (image nginx:1.25) by the API stand-in; NET is 1 when it has its own
  network namespace with eth0 (200 datagrams sent) and eth1; B_ID runs a burner under a
  CFS quota of 20 ms per 100 ms, unknown to the API; LXC_ID has no process.
"""

import os
import re
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lineproto  # noqa: E402

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
FAILED = 0


def check(cond, desc, detail=""):
    global FAILED
    if cond:
        print("ok - " + desc)
    else:
        FAILED += 1
        print("not ok - " + desc)
        if detail:
            print("# " + str(detail))


def scrape(url):
    """{(name, frozenset(labels)): value} of every sample, and the HELP/TYPE lines."""
    with urllib.request.urlopen(url, timeout=10) as r:
        text = r.read().decode()
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            continue
        labels = frozenset(LABEL_RE.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples, types


def find(samples, name, cid, **extra):
    """Value and labels of `name` for container id `cid` (and extra labels), or None."""
    for (n, labels), v in samples.items():
        d = dict(labels)
        if n == name and d.get("id") == cid and all(d.get(k) == x for k, x in extra.items()):
            return v, d
    return None


def value(samples, name, cid, **extra):
    got = find(samples, name, cid, **extra)
    return got[0] if got else None


def main():
    url, a, b, lxc = sys.argv[1:5]
    mib, limit, net, lp_file = int(sys.argv[5]), int(sys.argv[6]), sys.argv[7] == "1", sys.argv[8]
    wait = float(sys.argv[9]) if len(sys.argv) > 9 else 4.0

    s1, types = scrape(url)
    t1 = time.monotonic()
    time.sleep(wait)
    s2, _ = scrape(url)
    dt = time.monotonic() - t1

    # Names and labels.
    got = find(s2, "container_cpu_usage_seconds_total", a, cpu="total")
    check(got is not None, "A is reported: container_cpu_usage_seconds_total{id=%s,cpu=total}" % a)
    if got:
        check(got[1].get("name") == "web" and got[1].get("image") == "nginx:1.25",
              "A is named from the Docker API stand-in: name=web image=nginx:1.25", got[1])
    got = find(s2, "container_memory_usage_bytes", b)
    check(got is not None and got[1].get("name", "") == "",
          "B (unknown to the API) is reported with its id and an empty name", got)
    got = find(s2, "container_memory_usage_bytes", lxc)
    check(got is not None and got[1].get("name") == "sonde-it",
          "the LXC container is named after lxc.payload.<name>", got)
    for fam, kind in (("container_cpu_usage_seconds_total", "counter"),
                      ("container_memory_working_set_bytes", "gauge"),
                      ("container_spec_memory_limit_bytes", "gauge"),
                      ("container_cpu_cfs_throttled_periods_total", "counter"),
                      ("container_threads", "gauge")):
        check(types.get(fam) == kind, "TYPE of %s is %s" % (fam, kind), types.get(fam))

    # CPU: A burns one CPU, B is held to 20% by its quota.
    def rate(name, cid, **extra):
        v1, v2 = value(s1, name, cid, **extra), value(s2, name, cid, **extra)
        return None if v1 is None or v2 is None else (v2 - v1) / dt
    ra = rate("container_cpu_usage_seconds_total", a, cpu="total")
    check(ra is not None and 0.5 <= ra <= 1.15,
          "A's CPU seconds grow at about 1 per second (%s)" % (ra and "%.2f" % ra))
    ru = rate("container_cpu_user_seconds_total", a)
    rs = rate("container_cpu_system_seconds_total", a)
    check(ru is not None and rs is not None and ra and abs(ru + rs - ra) <= 0.15,
          "A's user + system rate matches its usage rate (%s + %s)" % (ru, rs))
    rb = rate("container_cpu_usage_seconds_total", b, cpu="total")
    check(rb is not None and 0.1 <= rb <= 0.25,
          "B's CPU seconds grow at its quota, 0.2 per second (%s)" % (rb and "%.2f" % rb))
    rp = rate("container_cpu_cfs_periods_total", b)
    rt = rate("container_cpu_cfs_throttled_periods_total", b)
    rts = rate("container_cpu_cfs_throttled_seconds_total", b)
    check(rp is not None and 7 <= rp <= 11, "B's CFS periods count 10 per second (%s)" % rp)
    check(rt is not None and rt >= 5, "B is throttled in most periods (%s per second)" % rt)
    check(rts is not None and 0.4 <= rts <= 1.0,
          "B's throttled time grows by ~0.8 s per second (%s)" % rts)
    check(value(s2, "container_cpu_cfs_periods_total", a) is None,
          "A has no quota: no container_cpu_cfs_* series (as cAdvisor)")

    # Memory: the burner touched MIB MiB.
    held = mib << 20
    usage = value(s2, "container_memory_usage_bytes", a)
    ws = value(s2, "container_memory_working_set_bytes", a)
    rss = value(s2, "container_memory_rss", a)
    check(usage is not None and held <= usage <= held + (48 << 20),
          "A's memory usage holds the %d MiB it touched (%s)" % (mib, usage))
    check(ws is not None and held <= ws <= usage,
          "A's working set is at least what it touched and at most its usage (%s)" % ws)
    check(rss is not None and rss >= held, "A's RSS is at least %d MiB (%s)" % (mib, rss))
    check(value(s2, "container_spec_memory_limit_bytes", a) == limit,
          "A's memory limit is reported: %d" % limit)
    check(value(s2, "container_spec_memory_limit_bytes", b) == 0,
          "B has no memory limit: 0, as cAdvisor reports it")
    check(value(s2, "container_oom_events_total", a) == 0, "A had no OOM kill")

    # PIDs.
    check(value(s2, "container_threads", a) == 1, "A runs one task (pids.current)")
    check(value(s2, "container_threads_max", a) == 100, "A's pids.max is 100")
    check(value(s2, "container_processes", a) == 1, "A runs one process (cgroup.procs)")
    check(value(s2, "container_processes", lxc) == 0, "the LXC container has no process")

    # Network: A has its own namespace; B shares the host's (nothing of its own).
    if net:
        tx = value(s2, "container_network_transmit_packets_total", a, interface="eth0")
        rx = value(s2, "container_network_receive_packets_total", a, interface="eth1")
        txb = value(s2, "container_network_transmit_bytes_total", a, interface="eth0")
        check(tx is not None and tx >= 200, "A sent its 200 datagrams on eth0 (%s)" % tx)
        check(rx is not None and rx >= 200, "and they arrived on eth1 (%s)" % rx)
        check(txb is not None and txb >= 200 * 142, "eth0 bytes count them (%s)" % txb)
        check(value(s2, "container_network_receive_bytes_total", a, interface="lo") is None,
              "lo is left out")
    check(not any(n.startswith("container_network_") and dict(l).get("id") == b
                  for n, l in s2), "B, in the host's network namespace, has no network series")

    # Pressure, from the unified tree.
    check(value(s2, "container_pressure_cpu_waiting_seconds_total", a) is not None,
          "A has container_pressure_cpu_waiting_seconds_total")
    check(value(s2, "container_pressure_memory_stalled_seconds_total", a) is not None,
          "A has container_pressure_memory_stalled_seconds_total")

    # Line protocol of `sonde --once`, Telegraf's docker input.
    points = []
    with open(lp_file) as f:
        for line in f.read().splitlines():
            if line.startswith("docker_container_"):
                try:
                    points.append(lineproto.parse_line(line))
                except lineproto.LineError as e:
                    check(False, "line protocol parses", "%s: %s" % (e, line))
    def point(meas, **tags):
        for m, t, fields, _ in points:
            if m == meas and all(t.get(k) == v for k, v in tags.items()):
                return t, fields
        return None
    web = dict(container_name="web", container_image="nginx", container_version="1.25")
    cpu = point("docker_container_cpu", cpu="cpu-total", **web)
    check(cpu is not None, "docker_container_cpu,container_name=web,container_image=nginx,"
          "container_version=1.25,cpu=cpu-total is written")
    if cpu:
        f = cpu[1]
        check(f.get("usage_total", ("", 0))[0] == "int" and f["usage_total"][1] > 0,
              "usage_total is an integer (ns)", f.get("usage_total"))
        check(f.get("usage_percent", ("", 0))[0] == "float" and 40 <= f["usage_percent"][1] <= 120,
              "usage_percent is a float near 100 (one CPU busy)", f.get("usage_percent"))
        check(f.get("container_id", ("", ""))[0] == "string" and len(f["container_id"][1]) == 64,
              "container_id is the 64-hex id, a string field", f.get("container_id"))
    mem = point("docker_container_mem", **web)
    check(mem is not None and mem[1].get("limit") == ("int", limit) and
          mem[1].get("usage", ("", 0))[1] >= held,
          "docker_container_mem: limit %d and usage >= %d" % (limit, held), mem and mem[1])
    if net:
        n = point("docker_container_net", network="eth0", **web)
        check(n is not None and n[1].get("tx_packets", ("", 0))[1] >= 200,
              "docker_container_net,network=eth0: tx_packets >= 200", n and n[1])
    th = point("docker_container_cpu", container_name=b.split("docker-")[-1][:12])
    check(th is not None and th[1].get("throttling_throttled_periods", ("", 0))[1] > 0,
          "B's cpu point (named by its short id) has throttling_throttled_periods > 0",
          th and th[1])
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
