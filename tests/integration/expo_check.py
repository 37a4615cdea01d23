"""expo_check.py - structural checks of a Prometheus exposition body (integration test helper):
text format 0.0.4 or OpenMetrics 1.0. promtool checks parsing and naming lint; this adds
what it does not: every family has exactly one HELP and one TYPE before its samples, a
family's samples are contiguous, counters are named *_total, no series appears twice, and
(OpenMetrics) counter families are declared without _total and the body ends with # EOF.
usage: expo_check.py [--openmetrics] LABEL FILE
Prints one "ok - " / "not ok - " line per check; exits 1 if any failed.
"""

import math
import re
import sys

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped", "unknown", "info", "stateset",
         "gaugehistogram"}
failed = 0


def check(cond, desc, problems=()):
    global failed
    if cond:
        print("ok - " + desc)
        return
    failed += 1
    print("not ok - " + desc)
    for p in list(problems)[:25]:
        print("#   " + p)
    if len(problems) > 25:
        print("#   ... and %d more" % (len(problems) - 25))


def parse_sample(line):
    """Returns (name, tuple of (label, value) sorted, value) or raises ValueError."""
    m = NAME_RE.match(line)
    if not m:
        raise ValueError("no metric name")
    name, i = m.group(0), m.end()
    labels = []
    if i < len(line) and line[i] == "{":
        i += 1
        while True:
            if line[i] == "}":
                i += 1
                break
            lm = LABEL_RE.match(line, i)
            if not lm or line[lm.end()] != "=" or line[lm.end() + 1] != '"':
                raise ValueError("bad label at column %d" % i)
            key, i = lm.group(0), lm.end() + 2
            val = []
            while line[i] != '"':
                if line[i] == "\\":
                    esc = line[i + 1]
                    if esc not in 'n"\\':
                        raise ValueError("bad escape \\%s" % esc)
                    val.append("\n" if esc == "n" else esc)
                    i += 2
                else:
                    val.append(line[i])
                    i += 1
            labels.append((key, "".join(val)))
            i += 1
            if line[i] == ",":
                i += 1
            elif line[i] != "}":
                raise ValueError("expected , or } at column %d" % i)
    rest = line[i:].split(" ")
    if len(rest) < 2 or rest[0] != "" or len(rest) > 3:
        raise ValueError("expected ' value [timestamp]'")
    value = rest[1]
    if value not in ("NaN", "+Inf", "-Inf"):
        float(value)
    keys = [k for k, _ in labels]
    if len(keys) != len(set(keys)):
        raise ValueError("label repeated")
    return name, tuple(sorted(labels)), value


def family_of(sample, declared, om):
    """The declared family a sample name belongs to, or None."""
    if sample in declared:
        return sample
    for suffix in ("_total", "_created", "_sum", "_count", "_bucket", "_info"):
        if sample.endswith(suffix) and sample[: -len(suffix)] in declared:
            return sample[: -len(suffix)]
    return None


def main():
    args = sys.argv[1:]
    om = args[0] == "--openmetrics"
    if om:
        args = args[1:]
    label, path = args
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    if om:
        check(text.endswith("# EOF\n") and "\n# EOF\n" not in text[:-6] and text != "",
              "%s: the body ends with '# EOF' (and has it once)" % label)
        if lines and lines[-1] == "":
            lines.pop()
        if lines and lines[-1] == "# EOF":
            lines.pop()
    else:
        check(text.endswith("\n") and text.strip() != "", "%s: the body is non-empty and ends "
              "with a newline" % label)
        if lines and lines[-1] == "":
            lines.pop()

    helps, types, meta_lines = {}, {}, []
    bad, dup_meta, samples = [], [], []
    for n, line in enumerate(lines, 1):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            if len(parts) < 4 and not (line.startswith("# HELP ") and len(parts) == 3):
                bad.append("line %d: %r" % (n, line))
                continue
            kind, name = parts[1], parts[2]
            table = helps if kind == "HELP" else types
            if name in table:
                dup_meta.append("line %d: second %s for %s" % (n, kind, name))
            table[name] = parts[3] if len(parts) > 3 else ""
            meta_lines.append((n, name))
            if kind == "TYPE" and table[name] not in TYPES:
                bad.append("line %d: unknown type %r" % (n, table[name]))
            continue
        if om and line.startswith("# UNIT "):
            meta_lines.append((n, line.split(" ")[2]))
            continue
        if line.startswith("#"):
            if om:
                bad.append("line %d: comment not allowed in OpenMetrics: %r" % (n, line))
            continue
        if line == "":
            if om:
                bad.append("line %d: empty line not allowed in OpenMetrics" % n)
            continue
        try:
            samples.append((n,) + parse_sample(line))
        except (ValueError, IndexError) as e:
            bad.append("line %d: %s: %r" % (n, e, line[:160]))
    check(not bad, "%s: every line is a HELP, TYPE or sample line that parses" % label, bad)
    check(len(samples) > 0, "%s: the body has samples" % label)
    check(not dup_meta, "%s: one HELP and one TYPE per family" % label, dup_meta)

    declared = set(helps) | set(types)
    missing = []
    for n, name, labels, value in samples:
        fam = family_of(name, declared, om)
        if fam is None or fam not in helps or fam not in types:
            missing.append("line %d: %s has no # HELP and # TYPE" % (n, name))
    check(not missing, "%s: every sample's family has # HELP and # TYPE" % label, missing)

    # A family's lines (HELP, TYPE, samples) must be one block, metadata first.
    events = [(n, name, "meta") for n, name in meta_lines]
    events += [(n, family_of(name, declared, om) or name, "sample")
               for n, name, labels, value in samples]
    events.sort()
    blocks, problems = [], []
    for n, fam, kind in events:
        if not blocks or blocks[-1][0] != fam:
            blocks.append([fam, kind])
        elif kind == "meta" and blocks[-1][1] == "sample":
            problems.append("line %d: HELP/TYPE of %s after its samples" % (n, fam))
        blocks[-1][1] = kind
    names = [b[0] for b in blocks]
    problems += ["family %s is split in several blocks" % f
                 for f in sorted({f for f in names if names.count(f) > 1})]
    check(not problems, "%s: each family is one block, HELP and TYPE before samples" % label,
          problems)

    counters = [f for f, t in types.items() if t == "counter"]
    if om:
        wrong = [f for f in counters if f.endswith("_total")]
        check(not wrong, "%s: counter families are declared without _total" % label, wrong)
        bad_names = ["%s (family %s)" % (name, family_of(name, declared, om))
                     for n, name, labels, value in samples
                     if types.get(family_of(name, declared, om)) == "counter"
                     and not (name.endswith("_total") or name.endswith("_created"))]
        check(not bad_names, "%s: counter samples are named *_total" % label, bad_names)
        untyped = [f for f, t in types.items() if t == "untyped"]
        check(not untyped, "%s: no 'untyped' type (OpenMetrics says unknown)" % label, untyped)
    else:
        wrong = [f for f in counters if not f.endswith("_total")]
        check(not wrong, "%s: every counter family ends in _total" % label, wrong)
        bad_names = ["line %d: %s" % (n, name) for n, name, labels, value in samples
                     if types.get(name) == "counter" and not name.endswith("_total")]
        check(not bad_names, "%s: every counter sample ends in _total" % label, bad_names)

    seen, dups = set(), []
    for n, name, labels, value in samples:
        key = (name, labels)
        if key in seen:
            dups.append("line %d: %s%s repeated" % (n, name, dict(labels)))
        seen.add(key)
    check(not dups, "%s: no series appears twice" % label, dups)
    nan = ["line %d: %s" % (n, name) for n, name, labels, value in samples
           if value == "NaN" or (value not in ("+Inf", "-Inf") and math.isnan(float(value)))]
    check(not nan, "%s: no NaN values" % label, nan)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
