#!/bin/sh
# test_systemd.sh - the systemd input against a stand-in for systemd: a private dbus-daemon in
# the test's directory and systemd_standin.py owning org.freedesktop.systemd1 on it, serving
# the units of systemd_units.json. Every series and point is checked against that file
# (systemd_check.py), and against node_exporter 1.5 asking the same stand-in; then the
# answers change mid-run, the stand-in dies, hangs (SIGSTOP: reads end at `timeout`) and
# comes back, the bus itself goes and comes back, and with no bus at all --once exits 0 with
# no systemd line.
. tests/integration/lib.sh # uses this script's $1, the sonde binary

# The stand-in runs under Debian's python3, where python3-dbus and python3-gi are installed
# (another python3 may come first in PATH).
PY=/usr/bin/python3
if ! sh tests/lib/ensure-debs.sh dbus-daemon python3-dbus python3-gi prometheus \
    prometheus-node-exporter >"$T/debs.out" 2>&1; then
    not_ok "dbus-daemon, python3-dbus, python3-gi, promtool and node_exporter are installed"
    note_file "$T/debs.out"
    done_testing
fi

bus=$T/bus
address="unix:path=$bus"
cp "$IT_DIR/systemd_units.json" "$T/units.json"
cat >"$T/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=$bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF

# start_bus / start_standin: each sets its pid variable and fails when not up within 10 s.
start_bus()
{
    rm -f "$bus"
    spawn dbus-daemon dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile
    bus_pid=$SPAWNED
    wait_for 10 test -S "$bus"
}
start_standin()
{
    spawn standin "$PY" "$IT_DIR/systemd_standin.py" "$address" "$T/units.json"
    standin_pid=$SPAWNED
    wait_for 10 grep -q '^ready' "$T/standin.out"
}
# edit_units PYTHON: changes the data file (atomically: the stand-in re-reads it).
edit_units()
{
    "$PY" - "$T/units.json" "$1" <<'EOF'
import json, os, sys
path, code = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    doc = json.load(f)
units = {u["name"]: u for u in doc["units"]}
exec(code)
with open(path + ".new", "w", encoding="utf-8") as f:
    json.dump(doc, f)
os.rename(path + ".new", path)
EOF
}

start_bus
result "a private dbus-daemon listens on $bus" || note_file "$T/dbus-daemon.err"
start_standin
result "the stand-in owns org.freedesktop.systemd1 on it" || {
    note_file "$T/standin.err"
    done_testing
}

# ---- Prometheus: every optional metric, mounts, scopes and targets included ----
exclude='.+\.(device|slice)'
port=$(free_port 19180)
base=http://127.0.0.1:$port
cat >"$T/sonde.yaml" <<EOF
agent:
  interval: 500ms
web:
  listen_address: "127.0.0.1:$port"
inputs:
  systemd:
    address: "$address"
    timeout: 1s
    unit_exclude: '$exclude'
    enable_restarts_metrics: true
    enable_task_metrics: true
    enable_start_time_metrics: true
EOF
spawn sonde "$SONDE" --config "$T/sonde.yaml"
sonde_pid=$SPAWNED
wait_http "$base/metrics" 10 "$sonde_pid"
result "sonde serves $base/metrics" || {
    note_file "$T/sonde.err"
    done_testing
}
has_systemd_series()
{
    curl -s --max-time 5 "$base/metrics" | grep -q '^node_systemd_units{'
}
wait_for 10 has_systemd_series
result "sonde exports node_systemd_* series" || note_file "$T/sonde.err"
curl -s --max-time 5 -o "$T/body" "$base/metrics"
py_checks systemd_check.py scrape "$T/units.json" "$T/body" --optional --exclude "$exclude"
[ "$(metric_value "$base/metrics" 'node_scrape_collector_success{collector="systemd"}')" = 1 ]
result 'node_scrape_collector_success{collector="systemd"} is 1'

# node_exporter 1.5 (Debian's package) asking the same stand-in, with the same options.
ne_port=$(free_port $((port + 1)))
spawn node_exporter env DBUS_SYSTEM_BUS_ADDRESS="$address" prometheus-node-exporter \
    --web.listen-address="127.0.0.1:$ne_port" --collector.disable-defaults --collector.systemd \
    --collector.systemd.unit-exclude="$exclude" --collector.systemd.enable-restarts-metrics \
    --collector.systemd.enable-task-metrics --collector.systemd.enable-start-time-metrics
ne_pid=$SPAWNED
if wait_http "http://127.0.0.1:$ne_port/metrics" 10 "$ne_pid"; then
    curl -s --max-time 10 -o "$T/ne.body" "http://127.0.0.1:$ne_port/metrics"
    curl -s --max-time 5 -o "$T/body" "$base/metrics"
    py_checks systemd_check.py compare "$T/ne.body" "$T/body"
    # promtool: what it finds in sonde's node_systemd_* lines, node_exporter's have too
    # (the refused-connections gauge named _total is node_exporter's).
    grep -E '^(# (HELP|TYPE) )?node_systemd_' "$T/ne.body" | promtool check metrics \
        >"$T/promtool.ne" 2>&1
    grep -E '^(# (HELP|TYPE) )?node_systemd_' "$T/body" | promtool check metrics \
        >"$T/promtool.sonde" 2>&1
    prc=$?
    sort -u "$T/promtool.ne" >"$T/promtool.ne.sorted"
    sort -u "$T/promtool.sonde" | comm -23 - "$T/promtool.ne.sorted" >"$T/promtool.extra"
    [ "$prc" -ne 1 ] && [ ! -s "$T/promtool.extra" ]
    result "promtool check metrics: nothing in sonde's node_systemd_* beyond node_exporter's" ||
        note_file "$T/promtool.extra"
else
    not_ok "node_exporter starts on 127.0.0.1:$ne_port (the reference)"
    note_file "$T/node_exporter.err"
fi
stop "$ne_pid" 5

# ---- The answers change: sonde follows (nothing is cached between reads) ----
edit_units 'units["cron.service"]["Service"]["NRestarts"] = 4
units["ssh.service"]["active"] = "failed"; units["ssh.service"]["sub"] = "failed"
units["dbus.socket"]["Socket"]["NAccepted"] = 43
doc["manager"]["SystemState"] = "running"'
changed()
{
    [ "$(metric_value "$base/metrics" 'node_systemd_system_running')" = 1 ]
}
wait_for 10 changed
result "node_systemd_system_running follows SystemState to running"
curl -s --max-time 5 -o "$T/body" "$base/metrics"
py_checks systemd_check.py scrape "$T/units.json" "$T/body" --optional --exclude "$exclude"

errors()
{
    metric_value "$base/metrics" 'sonde_input_read_errors_total{input="systemd"}'
}
absent()
{
    [ "$(metric_value "$base/metrics" 'node_scrape_collector_success{collector="systemd"}')" = 0 ] &&
        ! curl -s --max-time 5 "$base/metrics" | grep -q '^node_systemd_'
}

# ---- The stand-in dies (the bus stays): no series, no error flood; then it is back ----
stop "$standin_pid" 5
wait_for 10 absent
result "the stand-in gone: no node_systemd_* series and collector success 0"
e1=$(errors)
sleep 2.5
alive "$sonde_pid"
result "sonde keeps running without systemd on the bus"
e2=$(errors)
[ -n "$e1" ] && [ "$e1" = "$e2" ]
result "no read errors counted while systemd is absent ($e1, then $e2 after 2.5 s)"
[ "$(grep -c 'no systemd to ask' "$T/sonde.err")" -eq 1 ]
result "one log line says systemd is absent" || note_file "$T/sonde.err"
start_standin
wait_for 10 has_systemd_series
result "the stand-in back: node_systemd_* series again" || note_file "$T/sonde.err"
grep -q 'systemd answers on .* again' "$T/sonde.err"
result "the log says systemd answers again" || note_file "$T/sonde.err"

# ---- The stand-in hangs: every read ends at the 1 s timeout, the endpoint still answers ----
kill -STOP "$standin_pid"
failing()
{
    [ "$(metric_value "$base/metrics" 'node_scrape_collector_success{collector="systemd"}')" = 0 ]
}
wait_for 10 failing
result "the stand-in stopped: collector success 0"
sleep 1.5
d=$(metric_value "$base/metrics" 'sonde_input_read_duration_seconds{input="systemd"}')
awk -v d="$d" 'BEGIN { exit !(d >= 0.9 && d < 1.6) }'
result "a read of a hung systemd ends at the 1 s timeout (took ${d:-?} s)"
[ "$(http_status "$base/metrics" --max-time 2)" = 200 ]
result "the endpoint answers while systemd hangs"
kill -CONT "$standin_pid"
wait_for 10 has_systemd_series
result "the stand-in resumed: node_systemd_* series again" || note_file "$T/sonde.err"

# ---- The bus goes (a broken connection), comes back: sonde connects again ----
stop "$standin_pid" 5
stop "$bus_pid" 5
wait_for 10 absent
result "the bus gone: no node_systemd_* series"
e1=$(errors)
sleep 1.5
[ "$e1" = "$(errors)" ]
result "no read errors counted while the bus is gone"
start_bus && start_standin
result "the bus and the stand-in are back"
wait_for 10 has_systemd_series
result "sonde connects again: node_systemd_* series" || note_file "$T/sonde.err"
curl -s --max-time 5 -o "$T/body" "$base/metrics"
py_checks systemd_check.py scrape "$T/units.json" "$T/body" --optional --exclude "$exclude"
stop "$sonde_pid" 5
[ "$STOP_RC" -eq 0 ] && [ "$STOP_TIMED_OUT" -eq 0 ]
result "sonde stops cleanly on SIGTERM" || note_file "$T/sonde.err"

# ---- node_exporter's defaults: no optional metric, mounts, scopes ... left out ----
cat >"$T/defaults.yaml" <<EOF
agent:
  interval: 500ms
web:
  listen_address: "127.0.0.1:$port"
inputs:
  systemd:
    address: "$address"
EOF
spawn sonde2 "$SONDE" --config "$T/defaults.yaml"
sonde_pid=$SPAWNED
wait_http "$base/metrics" 10 "$sonde_pid" && wait_for 10 has_systemd_series
result "sonde with the input's defaults exports node_systemd_* series" || note_file "$T/sonde2.err"
curl -s --max-time 5 -o "$T/body" "$base/metrics"
py_checks systemd_check.py scrape "$T/units.json" "$T/body"
stop "$sonde_pid" 5

# ---- Line protocol (--once): Telegraf's systemd_units ----
sonde_fg --once --config "$T/defaults.yaml" >"$T/once.out" 2>"$T/once.err"
result "sonde --once exits 0" || note_file "$T/once.err"
py_checks systemd_check.py lp "$T/units.json" "$T/once.out"
cat >"$T/lp.yaml" <<EOF
inputs:
  systemd_units:
    address: "$address"
    unittype: socket,timer,service
    pattern: "*.socket  c*"
EOF
sonde_fg --once --config "$T/lp.yaml" >"$T/once.out" 2>"$T/once.err"
result "sonde --once with the Telegraf name and options exits 0" || note_file "$T/once.err"
py_checks systemd_check.py lp "$T/units.json" "$T/once.out" --unittype socket,timer,service \
    --pattern "*.socket  c*"

# --collector.systemd on the shipped configuration; the default address is the system bus
# (DBUS_SYSTEM_BUS_ADDRESS) unless systemd's private socket is there for root.
if [ ! -S /run/systemd/private ]; then
    env DBUS_SYSTEM_BUS_ADDRESS="$address" timeout -k 2 20 "$SONDE" --once \
        --collector.disable-defaults --collector.systemd >"$T/once.out" 2>"$T/once.err"
    result "sonde --once --collector.systemd exits 0" || note_file "$T/once.err"
    py_checks systemd_check.py lp "$T/units.json" "$T/once.out"
fi

# ---- No bus at all: no series, no line, no error, --once exits 0 ----
stop "$standin_pid" 5
stop "$bus_pid" 5
env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/nobus" timeout -k 2 20 "$SONDE" --once \
    --collector.disable-defaults --collector.systemd --collector.meminfo >"$T/once.out" \
    2>"$T/once.err"
result "without a bus, sonde --once --collector.systemd exits 0 (absent, not failed)" ||
    note_file "$T/once.err"
! grep -q '^systemd_units' "$T/once.out" && grep -q '^mem,' "$T/once.out"
result "without a bus, no systemd_units line (the other input writes)" || note_file "$T/once.out"
! grep -q 'warn\|error' "$T/once.err" && [ "$(grep -c 'no systemd to ask' "$T/once.err")" -eq 1 ]
result "without a bus, one info line and no warning" || note_file "$T/once.err"

spawn sonde3 "$SONDE" --config "$T/defaults.yaml"
sonde_pid=$SPAWNED
wait_http "$base/metrics" 10 "$sonde_pid" && sleep 1
[ "$(metric_value "$base/metrics" 'node_scrape_collector_success{collector="systemd"}')" = 0 ] &&
    [ "$(metric_value "$base/metrics" 'sonde_input_read_errors_total{input="systemd"}')" = 0 ] &&
    ! curl -s --max-time 5 "$base/metrics" | grep -q '^node_systemd_'
result "without a bus, the endpoint has no node_systemd_* series, success 0 and no read error"
stop "$sonde_pid" 5

done_testing
