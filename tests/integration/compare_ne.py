"""compare_ne.py - compares sonde's scrape endpoint with node_exporter's on the same host
(integration test helper; python3 standard library only).
usage: compare_ne.py NODE_EXPORTER_URL SONDE_URL

How the two are sampled so that moving values can be compared tightly:
  1. scrape node_exporter (A);
  2. scrape sonde and note R, its reads of the cpu input so far; since round R+1 had not
     finished then, round R+2 starts after step 1;
  3. poll sonde until it reports reads >= R+2 and keep that scrape (S): every input value
     in it was read after A;
  4. scrape node_exporter again (B) at once.
So every value of S was read from /proc and /sys between A and B: a counter must satisfy
A <= S <= B, and a constant must equal A (= B). The tolerances below only cover what
this bracket cannot: gauges that go up and down between A and B (the spread is not
monotonic), and node_exporter's cpu collector ignoring small backward jumps of idle.
Prints one "ok - " / "not ok - " line per check; exits 1 if any failed.
"""

import re
import sys
import time
import urllib.request

# The families this comparison covers (the node_exporter collectors the cpu, mem, system,
# kernel, net, diskio and disk inputs replace). Anything else (go_*, process_*,
# node_scrape_*, promhttp_*, node_exporter_build_info, sonde_*) is ignored on both sides.
COVERED = re.compile(r"^node_(cpu_.*|memory_.*|load.*|boot_time_seconds|context_switches_total"
                     r"|forks_total|intr_total|procs_.*|network_.*_total|disk_.*|filesystem_.*)$")
# ... and those of the vmstat, netstat, sockstat, softnet, udp_queues, arp and conntrack inputs.
COVERED = re.compile(COVERED.pattern + r"|^node_(vmstat_.*|netstat_.*|sockstat_.*|softnet_.*"
                     r"|udp_queues|arp_entries|nf_conntrack_.*)$")
# Counters node_exporter exports untyped or as gauges (no _total): bracketed like counters.
RAW_COUNTERS = re.compile(r"^node_(vmstat_(oom_kill|pg.*|pswp.*)|nf_conntrack_stat_.*"
                          r"|netstat_(?!(Tcp_CurrEstab|Tcp_MaxConn|Ip_Forwarding)$).*)$")
# ... and those of the netclass, hwmon, thermal_zone, powersupplyclass and cpufreq inputs.
COVERED = re.compile(COVERED.pattern + r"|^node_(network_.*|hwmon_.*|thermal_zone_temp"
                     r"|cooling_device_.*|power_supply_.*)$")
# Sensor readings and CPU frequencies move between any two reads.
FREQUENCIES = re.compile(r"^node_cpu_(scaling_)?frequency_hertz$")
SENSOR_GAUGES = re.compile(r"^node_(hwmon_.*|thermal_zone_temp|power_supply_.*)$")
# ... and those of the timex, time, uname, os, filefd, entropy, pressure, schedstat,
# processes, interrupts and textfile inputs. node_processes_state and _threads_state are
# left out: a process or thread caught in D or R state by one reader only is not an error.
COVERED = re.compile(COVERED.pattern + r"|^node_(timex_.*|time_.*|uname_info|os_.*|filefd_.*"
                     r"|entropy_.*|pressure_.*|schedstat_.*|processes_(pids|threads|max_.*)"
                     r"|interrupts_total|textfile_.*)$")
# Their values that do not move (the textfile test file is not touched during the test).
HOST_EXACT = re.compile(r"^node_(time_zone_offset_seconds|time_clocksource_.*|uname_info|os_.*"
                        r"|processes_max_.*|filefd_maximum|entropy_pool_size_bits|textfile_.*)$")

MiB = 1024.0 * 1024.0

# Values that do not move while the host runs: must equal node_exporter's exactly.
CONSTANTS = re.compile(r"^node_(boot_time_seconds|filesystem_(size_bytes|files|readonly"
                       r"|device_error)|disk_info|memory_(MemTotal_bytes|SwapTotal_bytes"
                       r"|HugePages_Total|Hugepagesize_bytes|VmallocTotal_bytes"
                       r"|CommitLimit_bytes))$")

failed = 0


def check(cond, desc, problems=()):
    global failed
    if cond:
        print("ok - " + desc)
        return
    failed += 1
    print("not ok - " + desc)
    problems = list(problems)
    for p in problems[:40]:
        print("#   " + p)
    if len(problems) > 40:
        print("#   ... and %d more" % (len(problems) - 40))


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode("utf-8")


LINE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \S+)?$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def parse(text):
    """Returns ({name: {labelset: value}}, {name: type}). labelset is a sorted tuple."""
    series, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if not line or line.startswith("#"):
            continue
        m = LINE_RE.match(line)
        if not m:
            raise ValueError("unparsable line: %r" % line)
        name, labels, value = m.group(1), m.group(3) or "", m.group(4)
        pairs = tuple(sorted(LABEL_RE.findall(labels)))
        series.setdefault(name, {})[pairs] = float(value)
    return series, types


def covered(series):
    return {n: v for n, v in series.items() if COVERED.match(n)}


def fmt(labels):
    return "{" + ",".join('%s="%s"' % kv for kv in labels) + "}"


def tolerance(name, labels, a, b, ncpu, fs_size):
    """(low, high) bounds sonde's value must fall in, from node_exporter's A and B."""
    lo, hi = min(a, b), max(a, b)
    if HOST_EXACT.match(name):
        return lo, hi
    if name == "node_time_seconds":
        return lo - 1, hi + 1  # the clock, read between A and B
    if name in ("node_processes_pids", "node_processes_threads", "node_filefd_allocated"):
        # Processes, threads and open files of the whole host at one instant: other jobs on
        # the machine start and stop meanwhile. 5% or 32; threads counted as processes (or
        # the reverse) are off by far more.
        slack = max(0.05 * max(abs(a), abs(b)), 32)
        return lo - slack, hi + slack
    if FREQUENCIES.match(name):
        # scaling_cur_freq follows the load from one read to the next: half the value.
        slack = 0.5 * max(abs(a), abs(b))
        return lo - slack, hi + slack
    if SENSOR_GAUGES.match(name) and not name.endswith("_total"):
        # Temperatures, fan speeds, battery voltage and power drift between the reads: 10%
        # or 2 (degrees, rpm, volts ...).
        slack = max(0.1 * max(abs(a), abs(b)), 2)
        return lo - slack, hi + slack
    if RAW_COUNTERS.match(name):
        eps = max(abs(hi) * 1e-12, 1e-9)
        return lo - eps, hi + eps
    if name == "node_nf_conntrack_entries_limit":
        return lo, hi  # a constant unless someone changes the sysctl
    if name.startswith("node_sockstat_") or name in ("node_netstat_Tcp_CurrEstab",
                                                      "node_nf_conntrack_entries"):
        # Sockets (and their tracked flows) at one instant: every scrape of the two endpoints
        # opens a connection and leaves one in TIME_WAIT. 64 (or 64 pages of socket buffers).
        slack = 64 * 4096 if name.endswith("_mem_bytes") else 64
        return lo - slack, hi + slack
    if CONSTANTS.match(name):
        return lo, hi  # exact: A == B for a true constant
    if name.startswith("node_cpu_"):
        # Counters, bracketed; node_exporter drops small backward jumps of idle/iowait
        # (it keeps the previous, larger value) where a raw reader may show the dip: allow
        # 0.1 s (10 ticks of USER_HZ).
        return lo - 0.1, hi + 0.1
    if name.endswith("_total"):
        # Counters (network, disk, context switches, forks, interrupts): bracketed by A
        # and B; the slack is only float formatting.
        eps = max(abs(hi) * 1e-12, 1e-9)
        return lo - eps, hi + eps
    if name.startswith("node_load"):
        # The kernel updates load averages every 5 s; both read /proc/loadavg. 0.5 covers
        # one update landing between the reads on a busy host.
        return lo - 0.5, hi + 0.5
    if name.startswith("node_procs_"):
        # Runnable/blocked processes at one instant: the readers themselves and whatever
        # else the host runs come and go. Allow the number of CPUs plus 2; a wrong source
        # (all processes, threads) is off by far more.
        return lo - (ncpu + 2), hi + (ncpu + 2)
    if name == "node_disk_io_now":
        return lo - 4, hi + 4  # I/Os in flight at one instant
    if name.startswith("node_memory_"):
        # Free/used/cached memory moves with every process start and page-cache fill
        # between the scrapes (2% of the value or 32 MiB); counts (HugePages_*) by 2.
        if name.endswith("_bytes"):
            slack = max(0.02 * max(abs(a), abs(b)), 32 * MiB)
        else:
            slack = max(0.02 * max(abs(a), abs(b)), 2)
        return lo - slack, hi + slack
    if name in ("node_filesystem_avail_bytes", "node_filesystem_free_bytes"):
        # Other processes write files between the scrapes: 1% of the file system or 64 MiB.
        slack = max(0.01 * fs_size.get(labels, 0), 64 * MiB)
        return lo - slack, hi + slack
    if name == "node_filesystem_files_free":
        return lo - 1000, hi + 1000  # inodes created or freed meanwhile
    # Any other gauge: 2% or 1.
    slack = max(0.02 * max(abs(a), abs(b)), 1)
    return lo - slack, hi + slack


GROUPS = [
    ("node_cpu_*", re.compile(r"^node_cpu_")),
    ("node_memory_*", re.compile(r"^node_memory_")),
    ("node_load*", re.compile(r"^node_load")),
    ("node_boot_time_seconds, node_context_switches_total, node_forks_total, node_intr_total,"
     " node_procs_*", re.compile(r"^node_(boot_time|context_switches|forks|intr|procs_)")),
    ("node_network_*_total", re.compile(r"^node_network_")),
    ("node_disk_*", re.compile(r"^node_disk_")),
    ("node_filesystem_*", re.compile(r"^node_filesystem_")),
    ("node_vmstat_*", re.compile(r"^node_vmstat_")),
    ("node_netstat_*", re.compile(r"^node_netstat_")),
    ("node_sockstat_*", re.compile(r"^node_sockstat_")),
    ("node_softnet_*", re.compile(r"^node_softnet_")),
    # arp and conntrack may export nothing on a host (empty table, module not loaded): they
    # share the group of udp_queues, which every host with IPv4 has.
    ("node_udp_queues, node_arp_entries, node_nf_conntrack_*",
     re.compile(r"^node_(udp_queues|arp_entries|nf_conntrack_)")),
    # netclass exports on every host; hwmon, thermal zones and power supplies only where the
    # hardware has them (not in most VMs): they share netclass' group.
    ("node_network_* attributes, node_hwmon_*, node_thermal_zone_temp, node_cooling_device_*,"
     " node_power_supply_*",
     re.compile(r"^node_(network_(?!.*_total$)|hwmon_|thermal_zone_|cooling_device_"
                r"|power_supply_)")),
    ("node_timex_*, node_time_*, node_uname_info, node_os_*",
     re.compile(r"^node_(timex_|time_|uname_info|os_)")),
    # pressure and schedstat exist only where the kernel has them (this VM has no schedstat):
    # they share the group of filefd and entropy, which every host has.
    ("node_filefd_*, node_entropy_*, node_pressure_*, node_schedstat_*",
     re.compile(r"^node_(filefd_|entropy_|pressure_|schedstat_)")),
    ("node_processes_{pids,threads,max_*}, node_interrupts_total, node_textfile_*",
     re.compile(r"^node_(processes_|interrupts_total|textfile_)")),
]


def reads_of_cpu(series):
    v = series.get("sonde_input_reads_total", {}).get((("input", "cpu"),))
    return None if v is None else int(v)


def main():
    ne_url, sonde_url = sys.argv[1], sys.argv[2]
    a_text = fetch(ne_url)
    s_series, _ = parse(fetch(sonde_url))
    r0 = reads_of_cpu(s_series)
    check(r0 is not None, 'sonde exports sonde_input_reads_total{input="cpu"}')
    if r0 is None:
        return 1
    deadline = time.monotonic() + 15
    while True:
        s_text = fetch(sonde_url)
        s_series, s_types = parse(s_text)
        r = reads_of_cpu(s_series)
        if r is not None and r >= r0 + 2:
            break
        if time.monotonic() > deadline:
            check(False, "sonde completes two collection rounds within 15 s",
                  ["cpu reads stayed at %s (from %d)" % (r, r0)])
            return 1
        time.sleep(0.05)
    b_text = fetch(ne_url)
    a_series, ne_types = parse(a_text)
    b_series, _ = parse(b_text)
    a, b, s = covered(a_series), covered(b_series), covered(s_series)

    # (a) names
    only_ne, only_sonde = sorted(set(a) - set(s)), sorted(set(s) - set(a))
    check(not only_ne and not only_sonde,
          "same metric names as node_exporter (%d covered names)" % len(a),
          ["only in node_exporter: " + n for n in only_ne] +
          ["only in sonde:         " + n for n in only_sonde])
    check(len(a) > 0 and all(any(rx.match(n) for n in a) for _, rx in GROUPS),
          "node_exporter exports every covered group (the comparison is not vacuous)",
          [g for g, rx in GROUPS if not any(rx.match(n) for n in a)])

    # TYPE of each family
    wrong_type = ["%s: node_exporter %s, sonde %s" % (n, ne_types.get(n), s_types.get(n))
                  for n in sorted(set(a) & set(s)) if ne_types.get(n) != s_types.get(n)]
    check(not wrong_type, "every family has node_exporter's TYPE (counter/gauge)", wrong_type)

    # (b) label sets. A series that appeared or vanished between A and B (a mount, an
    # interface) is accepted on either side.
    label_diffs = []
    for n in sorted(set(a) & set(s)):
        ne_sets = set(a[n]) & set(b.get(n, {}))
        ne_any = set(a[n]) | set(b.get(n, {}))
        for ls in sorted(ne_sets - set(s[n])):
            label_diffs.append("only in node_exporter: %s%s" % (n, fmt(ls)))
        for ls in sorted(set(s[n]) - ne_any):
            label_diffs.append("only in sonde:         %s%s" % (n, fmt(ls)))
    check(not label_diffs, "same label sets as node_exporter for every name", label_diffs)

    # (c) values
    ncpu = len({dict(ls).get("cpu") for ls in a.get("node_cpu_seconds_total", {})})
    fs_size = a.get("node_filesystem_size_bytes", {})
    for group, rx in GROUPS:
        problems, compared = [], 0
        for n in sorted(x for x in set(a) & set(s) if rx.match(x)):
            for ls, sv in sorted(s[n].items()):
                if ls not in a[n] or ls not in b.get(n, {}):
                    continue
                av, bv = a[n][ls], b[n][ls]
                lo, hi = tolerance(n, ls, av, bv, ncpu, fs_size)
                compared += 1
                if not lo <= sv <= hi:
                    problems.append("%s%s: sonde %r, node_exporter %r then %r (allowed %r..%r)"
                                    % (n, fmt(ls), sv, av, bv, lo, hi))
        check(compared > 0 and not problems,
              "values agree with node_exporter: %s (%d series)" % (group, compared),
              problems or ["no series compared"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
