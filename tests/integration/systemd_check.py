"""systemd_check.py - checks what sonde's systemd input exported against the data file the
systemd stand-in serves (integration test helper). The expected series follow node_exporter
1.5's systemd collector, the expected points Telegraf's inputs.systemd_units.
usage:
  systemd_check.py scrape DATA BODY [--include RE] [--exclude RE] [--optional]
      node_systemd_* series in the exposition BODY (a file) against DATA; --optional: with
      the restart, task and start time metrics (node_exporter's enable-*-metrics flags)
  systemd_check.py lp DATA LINES [--unittype T,T] [--pattern 'GLOB GLOB']
      systemd_units points in the line protocol LINES (a file) against DATA
  systemd_check.py compare NE_BODY SONDE_BODY
      node_systemd_* families of node_exporter and sonde: names, HELP, TYPE, series, values
Prints one "ok - " / "not ok - " line per check; exits 1 if any failed.
"""

import fnmatch
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import expo_check  # noqa: E402
import lineproto  # noqa: E402

STATES = ["active", "activating", "deactivating", "inactive", "failed"]
DEFAULT_EXCLUDE = r".+\.(automount|device|mount|scope|slice)"
NO_VALUE = 2**64 - 1

# Telegraf's tables (systemd's unit-def.c, a name two unit types share keeping one code).
LOAD = {"loaded": 0, "stub": 1, "not-found": 2, "bad-setting": 3, "error": 4, "merged": 5,
        "masked": 6}
ACTIVE = {"active": 0, "reloading": 1, "inactive": 2, "failed": 3, "activating": 4,
          "deactivating": 5}
SUB = {"running": 0x00, "dead": 0x01, "start-pre": 0x02, "start": 0x03, "exited": 0x04,
       "reload": 0x05, "stop": 0x06, "stop-watchdog": 0x07, "stop-sigterm": 0x08,
       "stop-sigkill": 0x09, "stop-post": 0x0a, "final-sigterm": 0x0b, "failed": 0x0c,
       "auto-restart": 0x0d, "waiting": 0x10, "tentative": 0x20, "plugged": 0x21,
       "mounting": 0x30, "mounting-done": 0x31, "mounted": 0x32, "remounting": 0x33,
       "unmounting": 0x34, "remounting-sigterm": 0x35, "remounting-sigkill": 0x36,
       "unmounting-sigterm": 0x37, "unmounting-sigkill": 0x38, "abandoned": 0x50,
       "active": 0x60, "start-chown": 0x70, "start-post": 0x71, "listening": 0x72,
       "stop-pre": 0x73, "stop-pre-sigterm": 0x74, "stop-pre-sigkill": 0x75,
       "final-sigkill": 0x76, "activating": 0x80, "activating-done": 0x81,
       "deactivating": 0x82, "deactivating-sigterm": 0x83, "deactivating-sigkill": 0x84,
       "elapsed": 0xa0}

TYPES = {
    "node_systemd_version": "gauge",
    "node_systemd_units": "gauge",
    "node_systemd_unit_state": "gauge",
    "node_systemd_system_running": "gauge",
    "node_systemd_service_restart_total": "counter",
    "node_systemd_unit_start_time_seconds": "gauge",
    "node_systemd_unit_tasks_current": "gauge",
    "node_systemd_unit_tasks_max": "gauge",
    "node_systemd_timer_last_trigger_seconds": "gauge",
    "node_systemd_socket_accepted_connections_total": "counter",
    "node_systemd_socket_current_connections": "gauge",
    "node_systemd_socket_refused_connections_total": "gauge",
}

failed = 0


def check(cond, desc, problems=()):
    global failed
    if cond:
        print("ok - " + desc)
        return
    failed += 1
    print("not ok - " + desc)
    problems = list(problems)
    for p in problems[:30]:
        print("#   " + str(p))
    if len(problems) > 30:
        print("#   ... and %d more" % (len(problems) - 30))


def version_number(text):
    m = re.search(r"[0-9]{3,}(\.[0-9]+)?", text or "")
    return float(m.group(0)) if m else 0.0


def expected_series(doc, include, exclude, optional):
    """node_exporter 1.5's series for DATA: {(name, labels): value}."""
    out = {}

    def put(metric, value, **labels):
        out[(metric, tuple(sorted(labels.items())))] = float(value)

    manager = doc["manager"]
    version = version_number(manager.get("Version"))
    put("node_systemd_version", version, version=manager.get("Version", "") if version else "")
    units = doc["units"]
    states = list(STATES) + [u["active"] for u in units if u["active"] not in STATES]
    for s in dict.fromkeys(states):
        put("node_systemd_units", sum(u["active"] == s for u in units), state=s)
    for u in units:
        name = u["name"]
        if (u["load"] != "loaded" or not re.fullmatch(include, name)
                or re.fullmatch(exclude, name)):
            continue
        kind = name.rsplit(".", 1)[-1]
        iface = u.get(kind.capitalize(), {})
        utype = iface.get("Type", "") if kind in ("service", "mount") else ""
        for s in STATES:
            put("node_systemd_unit_state", s == u["active"], name=name, state=s, type=utype)
        if kind == "service" and optional:
            if "NRestarts" in iface:
                put("node_systemd_service_restart_total", iface["NRestarts"], name=name)
            for prop, metric in (("TasksCurrent", "node_systemd_unit_tasks_current"),
                                 ("TasksMax", "node_systemd_unit_tasks_max")):
                if prop in iface and iface[prop] != NO_VALUE:
                    put(metric, iface[prop], name=name)
        if not optional:
            pass
        elif u["active"] != "active":
            put("node_systemd_unit_start_time_seconds", 0, name=name)
        elif "ActiveEnterTimestamp" in u.get("Unit", {}):
            put("node_systemd_unit_start_time_seconds",
                u["Unit"]["ActiveEnterTimestamp"] / 1e6, name=name)
        if kind == "timer" and version >= 212 and "LastTriggerUSec" in iface:
            put("node_systemd_timer_last_trigger_seconds", iface["LastTriggerUSec"] / 1e6,
                name=name)
        if kind == "socket" and "NAccepted" in iface:
            put("node_systemd_socket_accepted_connections_total", iface["NAccepted"], name=name)
            if "NConnections" in iface:
                put("node_systemd_socket_current_connections", iface["NConnections"], name=name)
                if "NRefused" in iface:
                    put("node_systemd_socket_refused_connections_total", iface["NRefused"],
                        name=name)
    if version >= 212:
        put("node_systemd_system_running", manager.get("SystemState") == "running")
    return out


def read_body(path):
    """The node_systemd_* families of an exposition: ({(name, labels): value}, help, type)."""
    samples, helps, types = {}, {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("# HELP node_systemd_"):
                name, _, text = line[len("# HELP "):].partition(" ")
                helps[name] = text
            elif line.startswith("# TYPE node_systemd_"):
                name, _, kind = line[len("# TYPE "):].partition(" ")
                types[name] = kind
            elif line.startswith("node_systemd_"):
                name, labels, value = expo_check.parse_sample(line)
                samples[(name, labels)] = float(value)
    return samples, helps, types


def same(a, b):
    return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


def diff(want, have):
    problems = []
    for key in sorted(set(want) | set(have)):
        if key not in have:
            problems.append("missing %s%s = %r" % (key[0], dict(key[1]), want[key]))
        elif key not in want:
            problems.append("unexpected %s%s = %r" % (key[0], dict(key[1]), have[key]))
        elif not same(want[key], have[key]):
            problems.append("%s%s: want %r, have %r" % (key[0], dict(key[1]), want[key],
                                                         have[key]))
    return problems


def option(args, name, default):
    return args[args.index(name) + 1] if name in args else default


def cmd_scrape(data, body, args):
    with open(data, encoding="utf-8") as f:
        doc = json.load(f)
    want = expected_series(doc, option(args, "--include", ".+"),
                           option(args, "--exclude", DEFAULT_EXCLUDE), "--optional" in args)
    have, _, types = read_body(body)
    problems = diff(want, have)
    check(not problems, "node_systemd_* series and values equal what the stand-in serves "
          "(%d series)" % len(want), problems)
    bad = ["%s is %s, want %s" % (n, types.get(n), TYPES[n]) for n in {k[0] for k in have}
           if types.get(n) != TYPES.get(n)]
    check(not bad, "node_systemd_* families have node_exporter's TYPEs", bad)


def cmd_lp(data, lines, args):
    with open(data, encoding="utf-8") as f:
        doc = json.load(f)
    types = option(args, "--unittype", "service").split(",")
    patterns = option(args, "--pattern", "").split()
    want, skipped = {}, []
    for u in doc["units"]:
        name = u["name"]
        kind = name.rsplit(".", 1)[1] if "." in name else ""
        if kind not in types:
            continue
        if patterns and not any(fnmatch.fnmatchcase(name, p) for p in patterns):
            continue
        if u["load"] not in LOAD or u["active"] not in ACTIVE or u["sub"] not in SUB:
            skipped.append(name)
            continue
        want[name] = ({"name": name, "load": u["load"], "active": u["active"], "sub": u["sub"]},
                      {"load_code": ("int", LOAD[u["load"]]),
                       "active_code": ("int", ACTIVE[u["active"]]),
                       "sub_code": ("int", SUB[u["sub"]])})
    with open(lines, encoding="utf-8") as f:
        text = f.read()
    have, problems = {}, []
    for line in lineproto.split_lines(text):
        measurement, tags, fields, _ = lineproto.parse_line(line)
        if measurement != "systemd_units":
            continue
        tags = dict(tags)
        tags.pop("host", None)
        if tags.get("name") in have:
            problems.append("point for %s twice" % tags.get("name"))
        have[tags.get("name")] = (tags, dict(fields))
    for name in sorted(set(want) | set(have)):
        if name not in have:
            problems.append("missing point for %s" % name)
        elif name not in want:
            problems.append("unexpected point for %s" % name)
        elif want[name] != have[name]:
            problems.append("%s: want %r, have %r" % (name, want[name], have[name]))
    check(not problems, "systemd_units points equal Telegraf's for the stand-in's units "
          "(%d points; %d left out for a state without code: %s)"
          % (len(want), len(skipped), ", ".join(skipped) or "none"), problems)


def cmd_compare(ne_body, sonde_body):
    ne, ne_help, ne_types = read_body(ne_body)
    so, so_help, so_types = read_body(sonde_body)
    check(len(ne) > 0, "node_exporter exported node_systemd_* series (%d)" % len(ne))
    check(not diff(ne, so), "sonde's node_systemd_* series and values equal node_exporter's",
          diff(ne, so))
    names = {k[0] for k in ne}
    bad = ["%s: HELP %r vs %r, TYPE %s vs %s" % (n, ne_help.get(n), so_help.get(n),
                                                 ne_types.get(n), so_types.get(n))
           for n in sorted(names)
           if ne_help.get(n) != so_help.get(n) or ne_types.get(n) != so_types.get(n)]
    check(not bad, "the %d node_systemd_* families have node_exporter's HELP and TYPE"
          % len(names), bad)


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "scrape":
        cmd_scrape(args[0], args[1], args[2:])
    elif mode == "lp":
        cmd_lp(args[0], args[1], args[2:])
    elif mode == "compare":
        cmd_compare(args[0], args[1])
    else:
        sys.exit("unknown mode " + mode)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
