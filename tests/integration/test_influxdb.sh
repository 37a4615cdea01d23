#!/bin/sh
# test_influxdb.sh - sonde's line protocol against a real InfluxDB 1.x (the Debian influxdb
# package, started here on loopback ports with its own data): the output of --once and of
# the daemon's stdout output is accepted line for line, field types stay consistent, and
# awkward names and values encoded by sonde's encoder are stored as written.
. tests/integration/lib.sh # uses this script's $1, the sonde binary

http_port=$(free_port 19160)
rpc_port=$(free_port $((http_port + 1)))
base=http://127.0.0.1:$http_port
mkdir -p "$T/influx"

# Every listener on loopback: the HTTP API, and the RPC service used for backup/restore
# (default :8088, the top-level bind-address). ifql (:8082) is turned off; graphite,
# collectd, opentsdb and udp are off by default; no usage reporting, no _internal writes.
cat >"$T/influx/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc_port"

[meta]
  dir = "$T/influx/meta"

[data]
  dir = "$T/influx/data"
  wal-dir = "$T/influx/wal"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:$http_port"
  log-enabled = false

[ifql]
  enabled = false

[continuous_queries]
  enabled = false

[logging]
  level = "warn"
EOF
spawn influxd influxd run -config "$T/influx/influxdb.conf"
influx_pid=$SPAWNED
pinged()
{
    [ "$(http_status "$base/ping")" = 204 ]
}
wait_for 20 pinged
result "influxd answers /ping on 127.0.0.1:$http_port" || {
    note_file "$T/influxd.err"
    done_testing
}

# The test's own hygiene: influxd listens on the two loopback ports only.
python3 - "$influx_pid" >"$T/listeners" <<'EOF'
import os, sys
pid = sys.argv[1]
inodes = set()
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        link = os.readlink("/proc/%s/fd/%s" % (pid, fd))
    except OSError:
        continue
    if link.startswith("socket:["):
        inodes.add(link[8:-1])
for table in ("tcp", "tcp6", "udp", "udp6"):
    try:
        lines = open("/proc/%s/net/%s" % (pid, table)).read().splitlines()[1:]
    except OSError:
        continue
    for line in lines:
        f = line.split()
        listening = f[3] == "0A" if table.startswith("tcp") else True
        if listening and f[9] in inodes:
            addr, port = f[1].split(":")
            print(table, addr, int(port, 16))
EOF
sort -u "$T/listeners" >"$T/listeners.sorted"
printf 'tcp 0100007F %s\ntcp 0100007F %s\n' "$http_port" "$rpc_port" | sort >"$T/listeners.want"
cmp -s "$T/listeners.sorted" "$T/listeners.want"
result "influxd listens on 127.0.0.1:$http_port and 127.0.0.1:$rpc_port only" ||
    note "$(cat "$T/listeners.sorted")"

# ---- --once ----
sonde_fg --once >"$T/once.lp" 2>"$T/once.err"
rc=$?
[ "$rc" -eq 0 ] && [ -s "$T/once.lp" ]
result "sonde --once exits 0 with line protocol" || note_file "$T/once.err"
py_checks influx_check.py counts "$base" sonde_once once "$T/once.lp"

# ---- the daemon's stdout output, ~3 s of rounds ----
cat >"$T/daemon.yaml" <<EOF
agent:
  interval: 1s
web:
  listen_address: ""
inputs:
  cpu: {}
  mem: {}
  swap: {}
  system: {}
  kernel: {}
  net: {}
  diskio: {}
  disk: {}
outputs:
  stdout: {}
EOF
spawn daemon "$SONDE" --config "$T/daemon.yaml"
daemon_pid=$SPAWNED
three_rounds()
{
    [ "$(grep -c '^kernel,' "$T/daemon.out")" -ge 3 ]
}
wait_for 10 three_rounds
result "the daemon with outputs: {stdout: {}} prints three rounds within 10 s" ||
    note_file "$T/daemon.err"
stop "$daemon_pid" 5
[ "$STOP_RC" -eq 0 ] && [ "$STOP_TIMED_OUT" -eq 0 ]
result "the daemon exits 0 on SIGTERM" || note "exit status $STOP_RC"
note "daemon printed $(wc -l <"$T/daemon.out") lines," \
    "$(cut -d' ' -f1 "$T/daemon.out" | cut -d, -f1 | sort -u | tr '\n' ' ')"
# Both outputs together: a field whose type differs between --once and the daemon, or
# between rounds, shows up here and in InfluxDB's answer.
py_checks influx_check.py counts "$base" sonde_daemon daemon "$T/daemon.out" "$T/once.lp"

# ---- awkward strings through sonde's encoder ----
# Compiled as the Makefile compiles the unit tests (its CFLAGS_STD, WARN, OPT and the
# pkg-config flags), linked with the core library only: the encoder needs nothing else.
pkgs="libmicrohttpd yaml-0.1 zlib"
warn="-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
-Wno-format-nonliteral -Wvla -Wpointer-arith -Wundef"
# shellcheck disable=SC2046,SC2086 # flag lists split into arguments
${CC:-cc} -std=c11 -D_GNU_SOURCE -Iinclude -Icollector $warn -O2 -g \
    $(pkg-config --cflags $pkgs 2>/dev/null) -o "$T/lp_edges" tests/integration/lp_edges.c \
    build/libsonde_core.a $(pkg-config --libs $pkgs 2>/dev/null) -lpthread -lm \
    >"$T/cc.out" 2>&1
result "lp_edges.c compiles against build/libsonde_core.a" || note_file "$T/cc.out"
[ -s "$T/cc.out" ] && note_file "$T/cc.out"
if [ -x "$T/lp_edges" ]; then
    py_checks influx_check.py edges "$base" sonde_edges "$T/lp_edges"
fi

stop "$influx_pid" 10
[ "$STOP_TIMED_OUT" -eq 0 ]
result "influxd stops on SIGTERM" || note_file "$T/influxd.err"

done_testing
