#!/usr/bin/env python3
"""push_v2.py - the influxdb_v2 output (and influxdb, for VictoriaMetrics' /write) against a
real VictoriaMetrics and against a recording HTTP server whose answers each scenario picks;
prints "ok - " / "not ok - " lines (py_checks in test_push_v2.sh).

    push_v2.py SONDE TMPDIR VM_URL

Every sonde here runs the mem, kernel and system inputs every second with the stdout output
beside the push output: stdout is the record of what was sampled, and each scenario compares
the lines the server accepted with it. Counters are compared with a self-metrics snapshot in
which sent + rejected == queued (everything sampled until that round was answered); the lines
that snapshot accounts for are those of the first N rounds, N being mem's reads_total.
A net input matching no interface reads every 100 ms and queues nothing: the snapshots taken
after its rounds alone can show a queue emptied by the sender (flush_interval 200ms).
"""

import collections
import json
import sys
import time
import urllib.parse

import pushlib
from pushlib import check

SONDE, TMP, VM = sys.argv[1], sys.argv[2], sys.argv[3].rstrip("/")
OUT = "influxdb_v2"
TOKEN = "s3cret-t0ken"
ORG = "my org"
BUCKET = "b/1"


def config(url, port, extra="", outputs=None):
    out = outputs or f"""  influxdb_v2:
    - url: {url}
      token: "{TOKEN}"
      org: "{ORG}"
      bucket: "{BUCKET}"
      flush_interval: 200ms
      max_retry_interval: 2s
      flush_timeout: 4s
{extra}"""
    return f"""agent:
  interval: 1s
  hostname: it-v2
  log_level: info
web:
  listen_address: "127.0.0.1:{port}"
inputs:
  mem: {{}}
  kernel: {{}}
  system: {{}}
  net: {{interval: 100ms, interfaces: ["none-such*"]}}
outputs:
{out}  stdout: {{}}
"""


def settled(s, output=OUT, need_requests=0, rec=None, need_reads=3):
    """Waits (bounded) for a snapshot with sent + rejected == queued > 0 after at least
    `need_reads` rounds (and the plan used up); returns the metrics dict or {}."""
    def ok():
        m = s.metrics()
        if (pushlib.self_metric(m, "sonde_input_reads_total", inp="mem") or 0) < need_reads:
            return {}
        q = pushlib.self_metric(m, "sonde_output_samples_queued_total", output)
        sent = pushlib.self_metric(m, "sonde_output_samples_sent_total", output)
        rej = pushlib.self_metric(m, "sonde_output_samples_rejected_total", output)
        if q is None or sent is None or not q or sent + rej != q:
            return {}
        if rec is not None and (rec.plan or len(rec.snapshot()) < need_requests):
            return {}
        return m
    return pushlib.wait_until(20, ok, 0.2)


def reads_of(m):
    return int(pushlib.self_metric(m, "sonde_input_reads_total", inp="mem") or 0)


def accepted_lines(reqs):
    out = []
    for r in reqs:
        if r.status == 204:
            out += r.lines()
    return out


def gaps(reqs):
    return [round(b.t - a.t, 3) for a, b in zip(reqs, reqs[1:])]


class Run:
    """A scenario: sonde against the recorder with a plan; stops it and gathers."""

    def __init__(self, rec, name, plan, default=None, extra="", need=1, settle=True):
        rec.reset(plan, default)
        self.rec = rec
        self.name = name
        port = pushlib.free_port()
        self.s = pushlib.Sonde(SONDE, TMP, "v2-" + name,
                               config("http://127.0.0.1:%d" % rec.port, port, extra), port)
        self.ready = self.s.wait_ready()
        self.m = settled(self.s, need_requests=need, rec=rec) if settle and self.ready else {}
        self.rc = self.s.stop()
        self.reqs = rec.snapshot()
        self.lines = self.s.stdout_lines()
        self.accepted = accepted_lines(self.reqs)
        self.count = collections.Counter(self.accepted)
        self.snap = [ln.text for ln in
                     pushlib.rounds_of(pushlib.parse_lines(self.lines)[0], reads_of(self.m))] \
            if self.m else []

    def metric(self, name):
        return pushlib.self_metric(self.m, name, OUT)

    def basics(self, rejected_lines=()):
        """Checks every scenario makes: started, settled, exit 0, every sampled line
        delivered exactly once unless rejected, nothing rejected delivered."""
        n = self.name
        check(self.ready, f"{n}: sonde starts and serves its self-metrics",
              [self.s.stderr()[-2000:]])
        check(bool(self.m), f"{n}: a self-metrics snapshot with sent + rejected == queued "
              "within 20 s", [self.s.stderr()[-2000:]])
        check(self.rc == 0, f"{n}: sonde exits 0 on SIGTERM (status {self.rc})",
              [self.s.stderr()[-2000:]])
        rejected = set(rejected_lines)
        missing = [ln for ln in self.lines if ln not in self.count and ln not in rejected]
        check(self.lines and not missing,
              f"{n}: every line sonde sampled ({len(self.lines)}) was accepted by the server, "
              f"except the {len(rejected)} it refused",
              ["missing: " + ln[:150] for ln in missing])
        dups = [ln for ln, c in self.count.items() if c > 1]
        check(not dups, f"{n}: no line was accepted twice",
              ["%dx %s" % (self.count[ln], ln[:150]) for ln in dups])
        back = [ln for ln in rejected if ln in self.count]
        check(not back, f"{n}: no refused line was sent again and accepted",
              [ln[:150] for ln in back])

    def counters(self, rejected, partly=()):
        """sent == lines of the snapshot's rounds accepted (with `partly`, the lines of a
        partial write: all but the `rejected` ones count as sent); rejected as given."""
        n = self.name
        snap = set(self.snap)
        delivered = sum(c for ln, c in self.count.items() if ln in snap)
        if partly:
            delivered += len(partly) - rejected
        sent, rej = self.metric("sonde_output_samples_sent_total"), \
            self.metric("sonde_output_samples_rejected_total")
        queued = self.metric("sonde_output_samples_queued_total")
        check(queued == len(self.snap),
              f"{n}: queued_total ({queued}) == lines of the snapshot's rounds ({len(self.snap)})")
        check(sent == delivered,
              f"{n}: samples_sent_total ({sent}) == lines of those rounds the server accepted "
              f"({delivered})")
        check(rej == rejected, f"{n}: samples_rejected_total == {rejected} (got {rej})")
        dropped = self.metric("sonde_output_samples_dropped_total")
        check(dropped == 0, f"{n}: samples_dropped_total == 0 (got {dropped})")


def lp_problems(lines):
    _, bad = pushlib.parse_lines(lines)
    return bad


# ---------------------------------------------------------------- scenarios

def s_accept(rec):
    r = Run(rec, "204", [], need=2)
    r.basics()
    r.counters(0)
    reqs = r.reqs
    check(len(reqs) >= 2, f"204: requests arrived ({len(reqs)})")
    bad = []
    for q in reqs:
        if q.method != "POST" or q.path != "/api/v2/write":
            bad.append("%s %s" % (q.method, q.path))
        if q.query != {"org": [ORG], "bucket": [BUCKET], "precision": ["ns"]}:
            bad.append("query %r" % q.raw_query)
    check(not bad, "204: every request is POST /api/v2/write?org=...&bucket=...&precision=ns",
          bad)
    raw = reqs[0].raw_query if reqs else ""
    check("org=my%20org" in raw and "bucket=b%2F1" in raw,
          "204: org and bucket are percent-encoded in the query (%s)" % raw)
    bad = [q.headers.get("authorization") for q in reqs
           if q.headers.get("authorization") != "Token " + TOKEN]
    check(not bad, "204: every request has Authorization: Token <token>", bad)
    bad = ["%r %r %s" % (q.headers.get("content-encoding"), q.body[:2], q.decode_error)
           for q in reqs if q.headers.get("content-encoding") != "gzip"
           or q.body[:2] != b"\x1f\x8b" or q.data is None]
    check(not bad, "204: every body is Content-Encoding: gzip and gunzips", bad)
    bad = [q.headers.get("content-type") for q in reqs
           if not (q.headers.get("content-type") or "").startswith("text/plain")]
    check(not bad, "204: Content-Type is text/plain", bad)
    ua = reqs[0].headers.get("user-agent", "") if reqs else ""
    check(ua.startswith("sonde/"), f"204: User-Agent names sonde ({ua})")
    body_lines = []
    for q in reqs:
        if q.data is not None:
            text = q.data.decode("utf-8", "replace")
            if not text.endswith("\n"):
                bad.append("body does not end with a newline")
            body_lines += [ln for ln in text.split("\n") if ln]
    problems = lp_problems(body_lines)
    stamps = [ln.split(" ")[-1] for ln in body_lines]
    problems += ["timestamp %s not in ns" % t for t in stamps if len(t) != 19]
    check(body_lines and not problems,
          f"204: the gunzipped bodies are valid line protocol with ns timestamps "
          f"({len(body_lines)} lines)", problems)
    retries = r.metric("sonde_output_retries_total")
    check(retries == 0, f"204: no retries counted (got {retries})")
    last = r.metric("sonde_output_last_success_timestamp_seconds") or 0
    check(abs(last - time.time()) < 30, "204: last_success_timestamp_seconds is recent")


def s_retry(rec):
    plan = [{"status": 503, "body": '{"code":"unavailable","message":"busy"}'}] * 3
    r = Run(rec, "503", plan, need=4)
    r.basics()
    r.counters(0)
    st = [q.status for q in r.reqs[:4]]
    check(st == [503, 503, 503, 204], f"503: three 503 answers, then 204 ({st})")
    retries = r.metric("sonde_output_retries_total")
    check(retries == 3, f"503: retries_total == 3 (got {retries})")
    first = r.reqs[0].lines() if r.reqs else []
    later = set(r.reqs[3].lines()) if len(r.reqs) > 3 else set()
    check(first and set(first) <= later,
          "503: the batch refused with 503 is in the request that succeeds")
    g = gaps(r.reqs[:4])
    # backoff 0.5 s, 1 s, 2 s (the ceiling, max_retry_interval), each minus up to 20% jitter
    bounds = [(0.4, 0.9), (0.8, 1.4), (1.6, 2.4)]
    ok = len(g) == 3 and all(lo <= x <= hi for x, (lo, hi) in zip(g, bounds))
    check(ok, f"503: retries back off exponentially with jitter, capped at "
          f"max_retry_interval 2s (gaps {g}; want {bounds})")


def s_retry_after(rec):
    def http_date(req):  # Retry-After as an HTTP date, 3 s ahead (1 s resolution)
        when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 3))
        return {"status": 503, "headers": {"Retry-After": when}}
    plan = [http_date,
            {"status": 429, "headers": {"Retry-After": "2"},
             "body": '{"code":"too many requests","message":"slow down"}'},
            {"status": 503, "headers": {"Retry-After": "2"}}]
    r = Run(rec, "429", plan, need=4)
    r.basics()
    r.counters(0)
    st = [q.status for q in r.reqs[:4]]
    check(st == [503, 429, 503, 204], f"429: 503 with Retry-After: <HTTP date 3 s ahead>, "
          f"429 and 503 with Retry-After: 2, then 204 ({st})")
    g = gaps(r.reqs[:4])
    # Without Retry-After the backoff would be 0.5 s, 1 s, 2 s (minus jitter).
    check(len(g) == 3 and 1.9 <= g[0] <= 3.5,
          f"429: Retry-After as an HTTP date is honoured: the next attempt comes 2-3 s later "
          f"(gap {g[:1]}; the date has 1 s resolution, max_retry_interval 2s caps it)")
    check(len(g) == 3 and all(2.0 <= x <= 3.0 for x in g[1:]),
          f"429: Retry-After: 2 is honoured, after 429 and after 503: the next attempts come "
          f"2-3 s later (gaps {g[1:]})")
    retries = r.metric("sonde_output_retries_total")
    check(retries == 3, f"429: retries_total == 3 (got {retries})")


def s_timeout(rec):
    """The backend accepts the request and answers only after 2.5 s: with timeout 1s,
    sonde gives up, counts a retry, and sends again."""
    r = Run(rec, "timeout", [{"status": 503, "delay": 2.5}], extra="      timeout: 1s\n",
            need=2)
    r.basics()
    r.counters(0)
    g = gaps(r.reqs[:2])
    check(len(g) == 1 and 1.3 <= g[0] <= 2.4,
          f"timeout: the attempt after a hung request comes after timeout 1s plus the "
          f"first backoff (gap {g})")
    retries = r.metric("sonde_output_retries_total")
    check(retries == 1, f"timeout: retries_total == 1 (got {retries})")
    err = r.s.stderr()
    check("imeout" in err or "timed out" in err, "timeout: the timeout is logged",
          [err[-600:]])


PARTIAL = ('{"code":"invalid","message":"partial write: field type conflict: input field '
           '\\"load1\\" on measurement \\"system\\" is type integer, already exists as type '
           'float dropped=2"}')


def s_partial(rec):
    r = Run(rec, "400", [{"status": 400, "body": PARTIAL}], need=2)
    first = r.reqs[0].lines() if r.reqs else []
    check(len(first) > 2, f"400: the first request holds more than 2 lines ({len(first)})")
    # Which 2 InfluxDB dropped is not said; the whole first batch leaves the queue.
    r.basics(rejected_lines=first)
    r.counters(2, partly=first)
    check(all(r.count[ln] == 0 for ln in first),
          "400: the batch answered with a partial write is not sent again")
    retries = r.metric("sonde_output_retries_total")
    check(retries == 0, f"400: no retry (got {retries})")
    check("400" in r.s.stderr() and "rejected" in r.s.stderr(),
          "400: the rejection is logged", [r.s.stderr()[-1000:]])


def s_unprocessable(rec):
    body = '{"code":"unprocessable entity","message":"failure writing points to database"}'
    r = Run(rec, "422", [{"status": 422, "body": body}], need=2)
    first = r.reqs[0].lines() if r.reqs else []
    r.basics(rejected_lines=first)
    r.counters(len(first))
    check(first and all(r.count[ln] == 0 for ln in first),
          f"422: the refused batch ({len(first)} lines) is counted rejected and not resent")


def s_auth(rec):
    body = '{"code":"unauthorized","message":"unauthorized access"}'
    r = Run(rec, "401", [{"status": 401, "body": body}] * 2, need=3)
    r.basics()
    r.counters(0)
    st = [q.status for q in r.reqs[:3]]
    check(st == [401, 401, 204], f"401: two 401 answers, then 204 ({st})")
    g = gaps(r.reqs[:3])
    check(len(g) == 2 and all(1.95 <= x <= 3.0 for x in g),
          f"401: retried at the backoff ceiling, max_retry_interval 2s (gaps {g})")
    err = r.s.stderr()
    check("error" in err and "401" in err, "401: logged as an error naming the status",
          [err[-1000:]])
    first = r.reqs[0].lines() if r.reqs else []
    check(first and all(r.count[ln] == 1 for ln in first),
          "401: the refused batch is kept and delivered once the server accepts")


def s_split(rec):
    def answer(req):
        return {"status": 413 if len(req.lines()) > 2 else 204}
    r = Run(rec, "413", [], default=answer, need=3)
    r.basics()
    r.counters(0)
    reqs = r.reqs
    ok = bool(reqs) and reqs[0].status == 413
    check(ok, "413: the first request (more than 2 lines) is answered 413")
    if not ok:
        return
    original = reqs[0].lines()
    # What follows the 413: halves, split again while still too large, until the 204
    # answers cover the original lines.
    got, pieces, i = [], [], 1
    while i < len(reqs) and len(got) < len(original):
        if reqs[i].status == 204:
            got += reqs[i].lines()
            pieces.append(len(reqs[i].lines()))
        i += 1
    check(got == original,
          f"413: the split requests' lines, in order, equal the original {len(original)} lines "
          f"(pieces {pieces})")
    check(pieces and max(pieces) < len(original),
          "413: each accepted piece is smaller than the original request")


def s_split_retry(rec):
    """413, then the first half is accepted and the second answered 503: the retry must
    not send the accepted half again (issue: "a batch is never sent twice after a 2xx")."""
    r = Run(rec, "413-503", [{"status": 413}, {"status": 204}, {"status": 503}], need=4)
    st = [q.status for q in r.reqs[:4]]
    check(st[:3] == [413, 204, 503], f"413-503: answers 413, 204 (first half), 503 (second "
          f"half), then 204 ({st})")
    r.basics()
    r.counters(0)
    if len(r.reqs) >= 4:
        half = r.reqs[1].lines()
        again = [ln for ln in r.reqs[3].lines() if ln in half]
        check(not again, f"413-503: the retry after the 503 leaves out the half already "
              f"accepted ({len(again)} of its {len(half)} lines sent again)",
              [ln[:120] for ln in again])


def s_split_single(rec):
    """413 for any request holding a kernel line: split down to that line alone, which is
    then too large by itself and rejected; the other lines are delivered."""
    def answer(req):
        return {"status": 413 if any(ln.startswith("kernel,") for ln in req.lines())
                else 204}
    r = Run(rec, "413-single", [], default=answer, need=3)
    kernel = [ln for ln in r.lines if ln.startswith("kernel,")]
    r.basics(rejected_lines=kernel)
    snap_kernel = [ln for ln in r.snap if ln.startswith("kernel,")]
    r.counters(len(snap_kernel))
    alone = [q for q in r.reqs if q.status == 413 and len(q.lines()) == 1]
    check(len(alone) >= len(snap_kernel) > 0,
          f"413-single: each kernel line ends alone in a 413'd request ({len(alone)} such "
          f"requests, {len(snap_kernel)} kernel lines in the snapshot)")
    check("too large" in r.s.stderr(), "413-single: the dropped record is logged",
          [r.s.stderr()[-800:]])


def s_stop_bound(rec):
    """SIGTERM while the backend answers 503: sonde goes on trying for flush_timeout (4s
    here), then exits 0 without hanging; the unsent lines are lost (no spool), counted in
    no counter after exit, and said in no log: only the exit is bounded."""
    rec.reset([], {"status": 503})
    port = pushlib.free_port()
    s = pushlib.Sonde(SONDE, TMP, "v2-stop",
                      config("http://127.0.0.1:%d" % rec.port, port), port)
    ready = s.wait_ready()
    pushlib.wait_until(10, lambda: len(rec.snapshot()) >= 2)
    t0 = time.monotonic()
    rc = s.stop(seconds=20)
    took = time.monotonic() - t0
    reqs = [q for q in rec.snapshot() if q.t >= t0]
    check(ready and rc == 0 and 3.5 <= took <= 6.5,
          f"stop: with the backend answering 503, SIGTERM ends sonde after about "
          f"flush_timeout 4s ({took:.1f} s, status {rc})", [s.stderr()[-800:]])
    check(len(reqs) >= 1, f"stop: sonde kept trying after SIGTERM ({len(reqs)} requests)")


def s_vm():
    """influxdb_v2 to VictoriaMetrics' /api/v2/write and influxdb to its /write."""
    port = pushlib.free_port()
    outputs = f"""  influxdb_v2:
    - url: {VM}
      token: "{TOKEN}"
      org: "{ORG}"
      bucket: "{BUCKET}"
      flush_interval: 200ms
  influxdb:
    - url: {VM}
      database: sondev1
      flush_interval: 200ms
"""
    s = pushlib.Sonde(SONDE, TMP, "v2-vm", config("", port, outputs=outputs), port)
    ready = s.wait_ready()
    check(ready, "vm: sonde starts with influxdb_v2 and influxdb outputs to VictoriaMetrics",
          [s.stderr()[-2000:]])
    both = settled(s, OUT) and settled(s, "influxdb")
    check(bool(both), "vm: both outputs deliver (sent == queued) within 20 s",
          [s.stderr()[-1000:]])
    time.sleep(1.2)  # a few more rounds, then stop (it flushes them)
    rc = s.stop()
    check(rc == 0, f"vm: sonde exits 0 (status {rc})", [s.stderr()[-1000:]])
    lines, bad = pushlib.parse_lines(s.stdout_lines())
    check(lines and not bad, f"vm: sonde sampled {len(lines)} lines", bad)

    def export(match):
        st, body, _ = pushlib.http(
            "POST", VM + "/api/v1/export",
            urllib.parse.urlencode({"match[]": match}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})
        rows = [json.loads(x) for x in body.decode().splitlines() if x.strip()] \
            if st == 200 else []
        return rows

    want = {}  # (metric name, db) -> {ts_ms: value}
    for ln in lines:
        for f, (typ, v) in ln.fields.items():
            if typ not in ("int", "uint", "float"):
                continue  # VictoriaMetrics keeps numbers only
            for db in ("", "sondev1"):
                want.setdefault(("%s_%s" % (ln.measurement, f), db), {})[ln.ts // 1000000] = v

    def stored():
        got = {}
        for row in export('{host="it-v2"}'):
            k = (row["metric"]["__name__"], row["metric"].get("db", ""))
            got.setdefault(k, []).extend(zip(row["timestamps"], row["values"]))
        return got

    def compare(got, db):
        missing, wrong, dup = [], [], []
        for (name, d), samples in want.items():
            if d != db:
                continue
            have = got.get((name, d), [])
            stamps = collections.Counter(t for t, _ in have)
            dup += ["%s @%d x%d" % (name, t, c) for t, c in stamps.items() if c > 1]
            hv = dict(have)
            for t, v in samples.items():
                if t not in hv:
                    missing.append("%s @%d" % (name, t))
                elif not (hv[t] == v or abs(hv[t] - v) <= 1e-9 * abs(v)):
                    wrong.append("%s @%d: sent %r, stored %r" % (name, t, v, hv[t]))
        return missing, wrong, dup

    # VictoriaMetrics makes rows searchable a second or two after it took them.
    got = pushlib.wait_until(20, lambda: (lambda g: g if not any(
        compare(g, db)[0] for db in ("", "sondev1")) else None)(stored()), 0.5) or stored()
    for db, what in (("", "influxdb_v2 via /api/v2/write"), ("sondev1", "influxdb via /write")):
        missing, wrong, dup = compare(got, db)
        n = sum(len(v) for k, v in want.items() if k[1] == db)
        check(n and not missing and not wrong,
              f"vm: {what}: all {n} numeric field values sampled are queryable with the "
              f"values sent (measurement_field names)", missing + wrong)
        check(not dup, f"vm: {what}: no sample stored twice (VictoriaMetrics keeps "
              "duplicates)", dup)


def main():
    pushlib.install_signal_cleanup()
    rec = pushlib.Recorder()
    try:
        pushlib.run_scenarios([s_vm])
        pushlib.run_scenarios([s_accept, s_retry, s_retry_after, s_timeout, s_partial,
                               s_unprocessable, s_auth, s_split, s_split_retry,
                               s_split_single, s_stop_bound], rec)
    finally:
        rec.close()
    return pushlib.done()


if __name__ == "__main__":
    sys.exit(main())
