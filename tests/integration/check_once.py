"""check_once.py - checks the line protocol `sonde --once` printed (integration test helper).
usage: check_once.py OUTPUT_FILE HOSTNAME MEASUREMENT...
Prints one "ok - " / "not ok - " line per check; exits 1 if any failed.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lineproto  # noqa: E402

failed = 0


def check(cond, desc, detail=None):
    global failed
    if cond:
        print("ok - " + desc)
    else:
        failed += 1
        print("not ok - " + desc)
        if detail:
            for line in str(detail).splitlines()[:20]:
                print("#   " + line)


def main():
    path, hostname, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = lineproto.split_lines(text)
    check(len(lines) > 0, "--once printed line protocol", "stdout was empty")
    points, bad = [], []
    for line in lines:
        try:
            points.append(lineproto.parse_line(line))
        except lineproto.LineError as e:
            bad.append("%s: %r" % (e, line[:200]))
    check(not bad, "--once: all %d lines parse as line protocol" % len(lines), "\n".join(bad))

    seen = {}
    for m, tags, fields, ts in points:
        seen.setdefault(m, []).append((tags, fields, ts))
    for m in wanted:
        check(m in seen, "--once: measurement %s present" % m,
              "measurements seen: %s" % ", ".join(sorted(seen)))

    total = [fields for tags, fields, ts in seen.get("cpu", []) if tags.get("cpu") == "cpu-total"]
    check(len(total) == 1, "--once: exactly one cpu line with cpu=cpu-total",
          "found %d" % len(total))
    idle = total[0].get("usage_idle") if total else None
    check(idle is not None and idle[0] == "float" and 0 <= idle[1] <= 100,
          "--once: cpu-total has a float usage_idle between 0 and 100", "usage_idle=%r" % (idle,))

    nohost = ["%s %r" % (m, tags.get("host")) for m, tags, fields, ts in points
              if tags.get("host") != hostname]
    check(not nohost, "--once: every line has host=%s" % hostname, "\n".join(nohost))

    now = time.time_ns()
    badts = []
    for m, tags, fields, ts in points:
        if ts is None or len(ts) != 19 or not ts.isdigit():
            badts.append("%s: timestamp %r is not 19 digits" % (m, ts))
        elif abs(int(ts) - now) > 300 * 10**9:
            badts.append("%s: timestamp %s is more than 300 s from now (%d)" % (m, ts, now))
    check(not badts, "--once: every line has a 19-digit nanosecond timestamp close to now",
          "\n".join(badts))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
