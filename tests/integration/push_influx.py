#!/usr/bin/env python3
"""push_influx.py - checks for test_push_influxdb.sh: what sonde's influxdb output delivered to
a real InfluxDB 1.x, compared with the line protocol the same sonde printed on its stdout
output (the record of what it sampled). Prints "ok - " / "not ok - " lines (py_checks).

    push_influx.py settle METRICS_URL OUTPUT SNAPFILE LABEL [--reads N] [--timeout S]
        Waits for a self-metrics snapshot in which the output's sent + rejected + dropped ==
        queued after at least N reads of mem (everything sampled until then was answered),
        and saves it.
    push_influx.py compare URL DB STDOUT LABEL [--rounds N] [--snapshot SNAPFILE]
        [--output NAME] [--wait S] [--subset]
        Every point the stdout lines make (measurement, tags, timestamp) is in DB with the
        same field values, and DB holds nothing else (unless --subset); with --rounds, mem,
        kernel and system have N points each; with --snapshot, samples_sent_total equals the
        lines of the snapshot's rounds and nothing was dropped or rejected.
    push_influx.py gaps URL DB STDOUT LABEL --interval-ms MS [--window T0 T1]
        mem in DB has one point per interval over the run: consecutive timestamps differ by
        MS (+-20%), none twice, and the points span the window (unix seconds) given.
    push_influx.py dropped URL DB STDOUT SNAPFILE LABEL
        For a run whose memory queue overflowed: the lines in DB are the newest ones, as many
        as samples_sent_total, and the missing ones are the oldest, no more than
        samples_dropped_total.
    push_influx.py partial URL DB STDOUT SNAPFILE LABEL [--measurement M]
        A run whose M lines conflict with a field type DB already has: InfluxDB's partial
        writes drop them; samples_rejected_total counts them, sent the rest, no retry.
    push_influx.py rss PID SECONDS OUTFILE
        Samples VmRSS (kB) every 0.5 s for SECONDS into OUTFILE (one number per line).
"""

import argparse
import json
import sys
import time
import urllib.parse

import pushlib
from pushlib import check, note


def query(base, db, q):
    url = "%s/query?%s" % (base, urllib.parse.urlencode({"db": db, "q": q, "epoch": "ns"}))
    status, body, _ = pushlib.http("GET", url)
    if status != 200:
        raise RuntimeError("query %r: HTTP %d: %s" % (q, status, body[:300]))
    res = json.loads(body)["results"][0]
    if "error" in res:
        raise RuntimeError("query %r: %s" % (q, res["error"]))
    return res.get("series", [])


def stored_points(base, db, rp=None):
    """{(measurement, tags tuple, ts): {field: value}} of everything in db (in its retention
    policy rp, else the default one)."""
    out = {}
    source = '"%s"."%s"./.*/' % (db, rp) if rp else "/.*/"
    for s in query(base, db, "SELECT * FROM %s GROUP BY *" % source):
        tags = tuple(sorted((k, v) for k, v in (s.get("tags") or {}).items() if v != ""))
        cols = s["columns"]
        for row in s["values"]:
            fields = {c: v for c, v in zip(cols[1:], row[1:]) if v is not None}
            out[(s["name"], tags, row[0])] = fields
    return out


def expected_points(lines):
    """The points lines make: lines of one series and timestamp merge, as in InfluxDB."""
    out = {}
    for ln in lines:
        out.setdefault(ln.key(), {}).update({k: v for k, (t, v) in ln.fields.items()})
    return out


def same_value(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b))
    return a == b


def read_stdout(path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    lines, bad = pushlib.parse_lines([t for t in text.split("\n")[:-1] if t])
    return lines, bad


def load_snapshot(path):
    with open(path) as f:
        return pushlib.scrape_values(f.read())


def snapshot_reads(m):
    return int(pushlib.self_metric(m, "sonde_input_reads_total", inp="mem") or 0)


def cmd_settle(a):
    last = {}

    def ok():
        status, body, _ = pushlib.http("GET", a.url, timeout=5)
        if status != 200:
            return None
        text = body.decode()
        m = pushlib.scrape_values(text)
        g = lambda n: pushlib.self_metric(m, n, a.output)  # noqa: E731
        q, s = g("sonde_output_samples_queued_total"), g("sonde_output_samples_sent_total")
        if q is None or s is None:
            return None
        last["counters"] = ", ".join("%s %s" % (n, g("sonde_output_%s" % n)) for n in (
            "samples_queued_total", "samples_sent_total", "samples_rejected_total",
            "samples_dropped_total", "retries_total", "queue_bytes", "spool_bytes"))
        reads = pushlib.self_metric(m, "sonde_input_reads_total", inp="mem") or 0
        held = g("sonde_output_queue_bytes")
        if held is None:
            held = g("sonde_output_spool_bytes")
        # The queue's bytes and the sender's counts are read one after the other: an
        # answer may fall between them. Both must agree.
        answered = s + g("sonde_output_samples_rejected_total") + \
            g("sonde_output_samples_dropped_total")
        return text if q > 0 and held == 0 and answered >= q and reads >= a.reads else None
    text = pushlib.wait_until(a.timeout, ok, 0.2)
    if text:
        with open(a.snapfile, "w") as f:
            f.write(text)
    check(bool(text), "%s: a self-metrics snapshot with the output's queue empty (every "
          "line queued was answered or dropped) after >= %d rounds, within %d s"
          % (a.label, a.reads, a.timeout), ["last: " + last.get("counters", "no answer")])


def compare_once(a, lines):
    want = expected_points(lines)
    got = stored_points(a.url, a.db, a.rp)
    missing = sorted(k for k in want if k not in got)
    extra = sorted(k for k in got if k not in want)
    wrong = []
    for k in want:
        if k in got:
            for f, v in want[k].items():
                if f not in got[k] or not same_value(got[k][f], v):
                    wrong.append("%s %s: %s sent %r, stored %r" % (k[0], k[2], f, v,
                                                                   got[k].get(f)))
    return want, got, missing, extra, wrong


def cmd_compare(a):
    lines, bad = read_stdout(a.stdout)
    check(lines and not bad, "%s: sonde printed %d valid lines on its stdout output"
          % (a.label, len(lines)), bad)
    if not lines:
        return
    res = pushlib.wait_until(a.wait, lambda: (lambda r: r if not r[2] else None)(
        compare_once(a, lines)), 0.5) or compare_once(a, lines)
    want, got, missing, extra, wrong = res
    per = {}
    for k in want:
        per.setdefault(k[0], [0, 0])[0] += 1
    for k in got:
        per.setdefault(k[0], [0, 0])[1] += 1
    note("%s: points per measurement (sampled/stored): %s" % (
        a.label, ", ".join("%s %d/%d" % (m, w, g) for m, (w, g) in sorted(per.items()))))
    check(not missing, "%s: every point sampled (%d) is in InfluxDB" % (a.label, len(want)),
          ["missing %s %s %s" % k for k in missing])
    if not a.subset:
        check(not extra, "%s: InfluxDB holds no point sonde did not sample" % a.label,
              ["extra %s %s %s" % k for k in extra])
    check(not wrong, "%s: every stored field value equals the value sampled" % a.label, wrong)
    if a.rounds:
        counts = {m: per.get(m, [0, 0])[1] for m in ("mem", "kernel", "system")}
        check(all(c == a.rounds for c in counts.values()),
              "%s: mem, kernel and system have one point per round, %d rounds (%s)"
              % (a.label, a.rounds, counts))
        ncpu = per.get("cpu", [0, 0])
        check(ncpu[1] == ncpu[0] and ncpu[0] > 0,
              "%s: cpu has every per-CPU and total point of the rounds (%d)" % (a.label,
                                                                              ncpu[1]))
    if a.snapshot:
        m = load_snapshot(a.snapshot)
        g = lambda n: pushlib.self_metric(m, n, a.output)  # noqa: E731
        snap = pushlib.rounds_of(lines, snapshot_reads(m))
        keys = set(ln.key() for ln in snap)
        sent, queued = g("sonde_output_samples_sent_total"), \
            g("sonde_output_samples_queued_total")
        check(queued == len(snap),
              "%s: snapshot: samples_queued_total (%s) == lines sampled in its %d rounds (%d)"
              % (a.label, queued, snapshot_reads(m), len(snap)))
        stored = sum(1 for k in keys if k in got)
        check(sent == len(snap) and stored == len(keys),
              "%s: snapshot: samples_sent_total (%s) == those lines (%d), and their %d points "
              "are in InfluxDB (%d)" % (a.label, sent, len(snap), len(keys), stored))
        for n in ("sonde_output_samples_dropped_total", "sonde_output_samples_rejected_total"):
            check(g(n) == 0, "%s: snapshot: %s == 0 (%s)" % (a.label, n, g(n)))


def cmd_gaps(a):
    lines, _ = read_stdout(a.stdout)
    sampled = sorted(set(ln.ts for ln in lines if ln.measurement == "mem"))
    rows = query(a.url, a.db, "SELECT total FROM mem")
    stamps = [r[0] for r in rows[0]["values"]] if rows else []
    check(stamps == sampled and len(stamps) > 2,
          "%s: mem in InfluxDB has exactly the %d timestamps sampled" % (a.label, len(sampled)),
          ["stored %d, sampled %d; first differences: %s" % (
              len(stamps), len(sampled), sorted(set(stamps) ^ set(sampled))[:10])])
    check(len(stamps) == len(set(stamps)), "%s: no timestamp twice (%d points, %d distinct)"
          % (a.label, len(stamps), len(set(stamps))))
    iv = a.interval_ms * 1e6
    # The first read runs at start, the next on the first aligned tick: skip that gap.
    diffs = [(b - x) for x, b in zip(stamps[1:], stamps[2:])]
    bad = ["%.3f s after %d" % (d / 1e9, stamps[i + 1]) for i, d in enumerate(diffs)
           if not 0.8 * iv <= d <= 1.2 * iv]
    check(diffs and not bad, "%s: consecutive mem points are %d ms apart (+-20%%) over the "
          "whole run (%d intervals, %.1f s)" % (a.label, a.interval_ms, len(diffs),
                                                (stamps[-1] - stamps[1]) / 1e9), bad)
    if a.window:
        t0, t1 = a.window[0] * 1e9, a.window[1] * 1e9
        inside = [t for t in stamps if t0 <= t <= t1]
        expect = (t1 - t0) / iv
        check(stamps and stamps[0] < t0 and stamps[-1] > t1 and len(inside) >= expect - 1,
              "%s: the points cover the outage: %d points inside its %.1f s (about %d "
              "expected), some before and after" % (a.label, len(inside), (t1 - t0) / 1e9,
                                                    expect))


def cmd_dropped(a):
    lines, _ = read_stdout(a.stdout)
    m = load_snapshot(a.snapshot)
    g = lambda n: pushlib.self_metric(m, n, "influxdb")  # noqa: E731
    snap = pushlib.rounds_of(lines, snapshot_reads(m))
    got = stored_points(a.url, a.db)
    present = [ln for ln in snap if ln.key() in got]
    missing = [ln for ln in snap if ln.key() not in got]
    sent, dropped = g("sonde_output_samples_sent_total"), g("sonde_output_samples_dropped_total")
    queued = g("sonde_output_samples_queued_total")
    check(queued == len(snap), "%s: samples_queued_total (%s) == lines sampled in the "
          "snapshot's rounds (%d)" % (a.label, queued, len(snap)))
    note("%s: %d lines sampled in the snapshot's rounds, %d stored, %d missing; sent %s, "
         "dropped %s" % (a.label, len(snap), len(present), len(missing), sent, dropped))
    check(missing and present, "%s: some lines were lost to the full queue, the newest "
          "arrived" % a.label)
    check(sent == len(present), "%s: samples_sent_total (%s) == lines stored (%d)"
          % (a.label, sent, len(present)))
    check(dropped is not None and len(missing) <= dropped,
          "%s: the lines missing (%d) are no more than samples_dropped_total (%s)"
          % (a.label, len(missing), dropped))
    if sent is not None and dropped is not None and queued is not None and \
            sent + dropped != queued:
        # outq.c: a chunk dropped for room while the sender holds a copy is counted dropped
        # even if that copy is then delivered (and counted sent).
        note("%s: sent + dropped (%d) != queued (%d): %d lines counted both sent and dropped"
             % (a.label, sent + dropped, queued, sent + dropped - queued))
    if missing and present:
        newest_missing = max(ln.ts for ln in missing)
        oldest_present = min(ln.ts for ln in present)
        check(newest_missing < oldest_present,
              "%s: what was dropped is the oldest: every missing line precedes every stored "
              "one" % a.label, ["newest missing %d, oldest stored %d" % (newest_missing,
                                                                         oldest_present)])


def cmd_partial(a):
    """A run whose `a.measurement` lines all conflict with a field type InfluxDB already
    holds: InfluxDB answers 400 "partial write: ... dropped=N" for each request."""
    lines, _ = read_stdout(a.stdout)
    m = load_snapshot(a.snapshot)
    g = lambda n: pushlib.self_metric(m, n, "influxdb")  # noqa: E731
    snap = pushlib.rounds_of(lines, snapshot_reads(m))
    conflicting = [ln for ln in snap if ln.measurement == a.measurement]
    others = [ln for ln in snap if ln.measurement != a.measurement]
    sent, rejected = g("sonde_output_samples_sent_total"), g("sonde_output_samples_rejected_total")
    check(conflicting and rejected == len(conflicting),
          "%s: samples_rejected_total (%s) == the %s lines of the snapshot's rounds, each "
          "dropped by InfluxDB (%d)" % (a.label, rejected, a.measurement, len(conflicting)))
    check(sent == len(others), "%s: samples_sent_total (%s) == the other lines (%d)"
          % (a.label, sent, len(others)))
    check(g("sonde_output_retries_total") == 0, "%s: no retry (%s)"
          % (a.label, g("sonde_output_retries_total")))
    got = stored_points(a.url, a.db)
    want = expected_points([ln for ln in lines if ln.measurement != a.measurement])
    missing = [k for k in want if k not in got]
    check(not missing, "%s: every other point sampled (%d) is in InfluxDB" % (a.label, len(want)),
          ["missing %s %s %s" % k for k in missing])
    stored = [k for k in got if k[0] == a.measurement]
    check(len(stored) == 1, "%s: InfluxDB holds no %s point of sonde's, only the one written "
          "before (%d)" % (a.label, a.measurement, len(stored)))


def cmd_rss(a):
    end = time.monotonic() + a.seconds
    with open(a.outfile, "w") as f:
        while time.monotonic() < end:
            try:
                with open("/proc/%d/status" % a.pid) as st:
                    for line in st:
                        if line.startswith("VmRSS:"):
                            f.write(line.split()[1] + "\n")
            except OSError:
                break
            f.flush()
            time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("settle")
    p.add_argument("url")
    p.add_argument("output")
    p.add_argument("snapfile")
    p.add_argument("label")
    p.add_argument("--reads", type=int, default=1)
    p.add_argument("--timeout", type=int, default=30)
    p = sub.add_parser("compare")
    for n in ("url", "db", "stdout", "label"):
        p.add_argument(n)
    p.add_argument("--rounds", type=int, default=0)
    p.add_argument("--snapshot")
    p.add_argument("--output", default="influxdb")
    p.add_argument("--wait", type=float, default=10)
    p.add_argument("--subset", action="store_true")
    p.add_argument("--rp", help="the retention policy to read (default: the database's)")
    p = sub.add_parser("gaps")
    for n in ("url", "db", "stdout", "label"):
        p.add_argument(n)
    p.add_argument("--interval-ms", type=int, required=True)
    p.add_argument("--window", type=float, nargs=2)
    p = sub.add_parser("dropped")
    for n in ("url", "db", "stdout", "snapshot", "label"):
        p.add_argument(n)
    p = sub.add_parser("partial")
    for n in ("url", "db", "stdout", "snapshot", "label"):
        p.add_argument(n)
    p.add_argument("--measurement", default="mem")
    p = sub.add_parser("rss")
    p.add_argument("pid", type=int)
    p.add_argument("seconds", type=float)
    p.add_argument("outfile")
    a = ap.parse_args()
    {"settle": cmd_settle, "compare": cmd_compare, "gaps": cmd_gaps, "dropped": cmd_dropped,
     "partial": cmd_partial, "rss": cmd_rss}[a.cmd](a)
    return 1 if pushlib.FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
