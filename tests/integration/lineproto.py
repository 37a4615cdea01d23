"""lineproto.py - a small, strict InfluxDB line-protocol reader for the integration tests
(python3 standard library only). It follows the InfluxDB 1.x parser's escaping rules, so
what it reads is what InfluxDB stores: measurement (\\, and \\space), tag keys, tag values
and field keys (\\, \\= \\space), string fields (\\" and \\\\); any other backslash is kept.
"""

import re

TIMESTAMP_RE = re.compile(r"^-?[0-9]+$")


class LineError(ValueError):
    pass


def _scan(s, i, stops, escapable):
    """Reads an escaped token from s[i:] up to an unescaped char in `stops`.
    Returns (text, index of the stop char or len(s))."""
    out = []
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n:
            nxt = s[i + 1]
            if nxt in escapable:
                out.append(nxt)
            else:
                out.append(c)
                out.append(nxt)
            i += 2
            continue
        if c in stops:
            break
        out.append(c)
        i += 1
    return "".join(out), i


def _field_value(s, i):
    """Parses a field value at s[i:]; returns ((type, value), index after it)."""
    if i < len(s) and s[i] == '"':
        out = []
        i += 1
        while i < len(s):
            c = s[i]
            if c == "\\" and i + 1 < len(s) and s[i + 1] in '"\\':
                out.append(s[i + 1])
                i += 2
                continue
            if c == '"':
                return ("string", "".join(out)), i + 1
            out.append(c)
            i += 1
        raise LineError("unterminated string field")
    j = i
    while j < len(s) and s[j] not in ", ":
        j += 1
    raw = s[i:j]
    if raw in ("t", "T", "true", "True", "TRUE"):
        return ("bool", True), j
    if raw in ("f", "F", "false", "False", "FALSE"):
        return ("bool", False), j
    if raw.endswith("i") and re.match(r"^-?[0-9]+i$", raw):
        return ("int", int(raw[:-1])), j
    if raw.endswith("u") and re.match(r"^[0-9]+u$", raw):
        return ("uint", int(raw[:-1])), j
    try:
        return ("float", float(raw)), j
    except ValueError:
        raise LineError("bad field value %r" % raw)


def parse_line(line):
    """Returns (measurement, tags dict, fields dict name -> (type, value), timestamp str
    or None). Raises LineError on anything InfluxDB would reject."""
    if not line or line.startswith("#"):
        raise LineError("empty line or comment")
    measurement, i = _scan(line, 0, ", ", ", ")
    if not measurement:
        raise LineError("empty measurement")
    tags = {}
    while i < len(line) and line[i] == ",":
        key, i = _scan(line, i + 1, ",= ", ",= ")
        if i >= len(line) or line[i] != "=" or not key:
            raise LineError("bad tag key %r" % key)
        value, i = _scan(line, i + 1, ", ", ",= ")
        if not value:
            raise LineError("empty tag value for %r" % key)
        tags[key] = value
    if i >= len(line) or line[i] != " ":
        raise LineError("missing fields")
    i += 1
    fields = {}
    while True:
        key, i = _scan(line, i, "= ,", ",= ")
        if i >= len(line) or line[i] != "=" or not key:
            raise LineError("bad field key %r" % key)
        value, i = _field_value(line, i + 1)
        if key in fields:
            raise LineError("duplicate field %r" % key)
        fields[key] = value
        if i < len(line) and line[i] == ",":
            i += 1
            continue
        break
    ts = None
    if i < len(line):
        if line[i] != " ":
            raise LineError("garbage after fields: %r" % line[i:])
        ts = line[i + 1:]
        if not TIMESTAMP_RE.match(ts):
            raise LineError("bad timestamp %r" % ts)
    return measurement, tags, fields, ts


def split_lines(text):
    """Splits a body into lines the way InfluxDB 1.x does (models.scanLine): a newline
    ends a line unless it is inside a quoted string field value; quotes count only after
    the first unescaped space and in a value position (more '=' than ',' seen)."""
    lines, i, n = [], 0, len(text)
    while i < n:
        start, quoted, fields, equals, commas = i, False, False, 0, 0
        while i < n:
            c = text[i]
            if c == "\\" and i + 2 < n:
                i += 2
                continue
            if c == " ":
                fields = True
            if fields:
                if not quoted and c == "=":
                    equals += 1
                    i += 1
                    continue
                if not quoted and c == ",":
                    commas += 1
                    i += 1
                    continue
                if c == '"' and equals > commas:
                    quoted = not quoted
                    i += 1
                    continue
            if c == "\n" and not quoted:
                break
            i += 1
        if i > start:
            lines.append(text[start:i])
        i += 1
    return lines
