"""influx_check.py - writes sonde's line protocol to a real InfluxDB 1.x and checks what it
stored (integration test helper; python3 standard library only).

usage:
  influx_check.py counts URL DB LABEL FILE...
      POSTs each FILE to DB (204 expected), then for every measurement compares, field by
      field, SELECT COUNT(*) with the points the files hold, and checks every field keeps
      one type across all lines of all FILEs.
  influx_check.py accepts URL DB LABEL FILE
      POSTs FILE to an existing DB and expects 204 (e.g. no field type conflict with what
      the database already holds).
  influx_check.py edges URL DB LP_EDGES_BINARY
      Encodes awkward strings with sonde's encoder (lp_edges), writes them and reads
      measurement, tag and field names and values back.
Prints one "ok - " / "not ok - " line per check; exits 1 if any failed.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lineproto  # noqa: E402

failed = 0


def check(cond, desc, problems=()):
    global failed
    if cond:
        print("ok - " + desc)
        return True
    failed += 1
    print("not ok - " + desc)
    problems = list(problems)
    for p in problems[:30]:
        for line in str(p).splitlines() or [""]:
            print("#   " + line)
    if len(problems) > 30:
        print("#   ... and %d more" % (len(problems) - 30))
    return False


def http(method, url, body=None):
    """Returns (status, body text)."""
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def query(base, db, q):
    url = "%s/query?%s" % (base, urllib.parse.urlencode({"db": db, "q": q, "epoch": "ns"}))
    status, text = http("GET", url)
    if status != 200:
        raise RuntimeError("query %r: HTTP %d: %s" % (q, status, text))
    res = json.loads(text)["results"][0]
    if "error" in res:
        raise RuntimeError("query %r: %s" % (q, res["error"]))
    return res.get("series", [])


def create_db(base, db):
    status, text = http("POST", "%s/query" % base,
                        urllib.parse.urlencode({"q": 'CREATE DATABASE "%s"' % db}).encode())
    return check(status == 200 and '"error"' not in text, "CREATE DATABASE %s" % db,
                 ["HTTP %d: %s" % (status, text)])


def write(base, db, body, desc):
    url = "%s/write?%s" % (base, urllib.parse.urlencode({"db": db, "precision": "ns"}))
    status, text = http("POST", url, body)
    return check(status == 204, desc, ["HTTP %d: %s" % (status, text.strip()[:2000])])


def ident(name):
    """An InfluxQL double-quoted identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_points(files):
    points, bad = [], []
    for path in files:
        with open(path, encoding="utf-8") as f:
            lines = lineproto.split_lines(f.read())
        if not lines:
            bad.append("%s is empty" % path)
        for line in lines:
            try:
                points.append(lineproto.parse_line(line))
            except lineproto.LineError as e:
                bad.append("%s: %s: %r" % (path, e, line[:200]))
    return points, bad


def counts(base, db, label, files):
    points, bad = read_points(files)
    check(points and not bad, "%s: %d lines of line protocol read back with a strict parser"
          % (label, len(points)), bad or ["no lines"])
    # One type per field, across every line of every file (InfluxDB refuses a change).
    types, conflicts = {}, []
    for m, tags, fields, ts in points:
        for k, (t, v) in fields.items():
            prev = types.setdefault((m, k), t)
            if prev != t:
                conflicts.append("%s.%s: %s then %s" % (m, k, prev, t))
    check(not conflicts, "%s: every field keeps one type across all lines" % label,
          sorted(set(conflicts)))

    if not create_db(base, db):
        return
    ok_all = True
    for path in files:
        with open(path, "rb") as f:
            ok_all &= write(base, db, f.read(),
                            "%s: POST %s to /write is 204 (every line accepted)"
                            % (label, os.path.basename(path)))
    # Lines of one series with the same timestamp are one point in InfluxDB (sonde, as
    # Telegraf, splits e.g. swap and system into several lines); so the expected count of
    # field F of measurement M is the number of distinct (series, timestamp) carrying F.
    expected = {}
    for m, tags, fields, ts in points:
        key = (tuple(sorted(tags.items())), ts)
        for k in fields:
            expected.setdefault(m, {}).setdefault(k, set()).add(key)
    for m in sorted(expected):
        want = {k: len(v) for k, v in expected[m].items()}
        try:
            series = query(base, db, "SELECT COUNT(*) FROM %s" % ident(m))
        except RuntimeError as e:
            check(False, "%s: every point of %s stored" % (label, m), [str(e)])
            continue
        got = {}
        if series:
            cols, row = series[0]["columns"], series[0]["values"][0]
            got = {c[len("count_"):]: v for c, v in zip(cols, row) if c.startswith("count_")}
        diffs = ["field %s: %d lines, %s stored" % (k, want[k], got.get(k))
                 for k in sorted(want) if got.get(k) != want[k]]
        diffs += ["field %s stored but not written" % k for k in sorted(set(got) - set(want))
                  if got[k]]
        lines = sum(1 for p in points if p[0] == m)
        check(not diffs, "%s: %s: all %d lines stored (%d points, %d fields, COUNT(*) per field)"
              % (label, m, lines, max(want.values()), len(want)), diffs)


def accepts(base, db, label, path):
    with open(path, "rb") as f:
        write(base, db, f.read(), label)


# The awkward strings. Every element kind gets each character class: spaces, commas,
# equals signs, double quotes, backslashes (inside a word: the protocol cannot carry a
# backslash right before a space, comma or '=' in a name or tag, since "\\ " reads as
# an escaped backslash and then a separator), unicode, and a newline.
CASES = [
    # (measurement, tag key, tag value, field key, string value)
    ("edge space", "tag key", "a b", "field key", "string with spaces"),
    ("edge,comma", "tag,key", "a,b", "field,key", "a,b"),
    ("edge=equals", "tag=key", "a=b", "field=key", "a=b"),
    ('edge"quote', 'tag"key', 'say "hi"', 'field"key', 'she said "hi"'),
    ("edge\\backslash", "tag\\key", "C:\\dir\\file", "field\\key", "C:\\dir\\file \\\\ end\\"),
    ("edge_ünïcödé_日本_📈", "tåg", "värde ✓ 📈", "fält_ß", "ünïcödé 日本語 📈"),
    ("edge\nnewline", "tag\nkey", "line1\nline2", "field\nkey", "line1\nline2"),
    ("edge all ,=\"\\x é\n!", "k ,=\"\\x é\n!", "v ,=\"\\x é\n!", "f ,=\"\\x é\n!",
     "s ,=\"\\x é\n!\\"),
    ("edge_only_specials", "k", " ,=", "=", '"'),
]


def stored_form(s, string_field=False):
    """What InfluxDB should hold for an original string, per collector/lineproto.c: in
    names and tags the control characters that would end the line become the two
    characters \\n, \\r, \\t, \\f (as Telegraf writes them); string fields are kept."""
    if string_field:
        return s
    for c, rep in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"), ("\f", "\\f")):
        s = s.replace(c, rep)
    return s


def edges(base, db, binary):
    ts = time.time_ns() // 10**9 * 10**9
    args = [binary, str(ts)]
    for case in CASES:
        args.extend(case)
    proc = subprocess.run(args, capture_output=True, timeout=30)
    if not check(proc.returncode == 0 and proc.stdout,
                 "lp_edges encodes %d awkward points" % len(CASES),
                 [proc.stderr.decode("utf-8", "replace")]):
        return
    body = proc.stdout
    for line in body.decode("utf-8").split("\n"):
        if line:
            print("#   " + line.replace("\n", "\\n"))
    if not create_db(base, db):
        return
    if not write(base, db, body, "edges: POST of sonde-encoded awkward points is 204"):
        return
    series = query(base, db, "SELECT * FROM /.*/")
    by_name = {s["name"]: s for s in series}
    problems = []
    for n, (m, tk, tv, fk, sv) in enumerate(CASES):
        em, etk, etv, efk = (stored_form(x) for x in (m, tk, tv, fk))
        s = by_name.get(em)
        if s is None:
            problems.append("case %d: measurement %r not stored; stored: %r"
                            % (n, em, sorted(by_name)))
            continue
        rows = [dict(zip(s["columns"], v)) for v in s["values"]]
        if len(rows) != 1:
            problems.append("case %d (%r): %d rows stored, expected 1" % (n, em, len(rows)))
            continue
        row = rows[0]
        if row.get("n") != n:
            problems.append("case %d (%r): n=%r" % (n, em, row.get("n")))
        if etk not in row:
            problems.append("case %d (%r): tag key %r missing; columns %r"
                            % (n, em, etk, s["columns"]))
        elif row[etk] != etv:
            problems.append("case %d (%r): tag %r = %r, expected %r" % (n, em, etk, row[etk], etv))
        if efk not in row:
            problems.append("case %d (%r): field key %r missing; columns %r"
                            % (n, em, efk, s["columns"]))
        elif row[efk] != sv:
            problems.append("case %d (%r): field %r = %r, expected %r"
                            % (n, em, efk, row[efk], sv))
    check(not problems and len(series) == len(CASES),
          "edges: %d measurements, tags and string fields read back as written "
          "(newlines in names and tags as \\n)" % len(CASES),
          problems + (["%d measurements stored, expected %d" % (len(series), len(CASES))]
                      if len(series) != len(CASES) else []))
    # The same through InfluxDB's own listings, not only SELECT's columns.
    try:
        shown = {v[0] for s in query(base, db, "SHOW MEASUREMENTS") for v in s["values"]}
        want = {stored_form(c[0]) for c in CASES}
        check(shown == want, "edges: SHOW MEASUREMENTS lists the measurements as written",
              ["missing: %r" % sorted(want - shown), "unexpected: %r" % sorted(shown - want)])
        keys = {}
        for s in query(base, db, "SHOW FIELD KEYS"):
            keys[s["name"]] = {v[0]: v[1] for v in s["values"]}
        bad = ["%r: field keys %r" % (stored_form(c[0]), keys.get(stored_form(c[0])))
               for c in CASES
               if keys.get(stored_form(c[0])) != {stored_form(c[3]): "string", "n": "integer"}]
        check(not bad, "edges: SHOW FIELD KEYS has each string field and n as integer", bad)
    except RuntimeError as e:
        check(False, "edges: SHOW MEASUREMENTS / SHOW FIELD KEYS", [str(e)])


def main():
    mode = sys.argv[1]
    if mode == "counts":
        counts(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    elif mode == "accepts":
        accepts(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif mode == "edges":
        edges(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        print("usage: see the docstring", file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
