#!/bin/sh
# test_endpoint.sh - the Prometheus scrape endpoint of a running sonde: headers, text and
# OpenMetrics bodies (structure, promtool parse and lint against node_exporter's own lint
# findings), gzip, HEAD, index page, 404/405, custom telemetry path, self-metrics, and the
# daemon's signals: SIGHUP reload (good and broken configuration), SIGTERM/SIGINT stop.
. tests/integration/lib.sh # uses this script's $1, the sonde binary

port=$(free_port 19120)
base=http://127.0.0.1:$port
mkdir -p "$T/ep"
cfg=$T/ep/sonde.yaml
cat >"$cfg" <<EOF
agent:
  interval: 1s
web:
  listen_address: "127.0.0.1:$port"
inputs:
  cpu: {}
  mem: {}
  swap: {}
  system: {}
  kernel: {}
  net: {}
  diskio: {}
  disk: {}
EOF
spawn sonde "$SONDE" --config "$cfg"
pid=$SPAWNED
if ! wait_http "$base/metrics" 10 "$pid"; then
    not_ok "sonde serves $base/metrics within 10 s"
    note_file "$T/sonde.err"
    done_testing
fi
ok "sonde serves $base/metrics within 10 s"

# ---- GET /metrics: status, headers, body ----
curl -s --max-time 5 -D "$T/h" -o "$T/body" "$base/metrics"
tr -d '\r' <"$T/h" >"$T/headers"
head -1 "$T/headers" | grep -q '^HTTP/1\.[01] 200'
result "GET /metrics is 200" || note_file "$T/headers"
# header_values NAME: every value of a header in $T/headers (names are case-insensitive).
header_values()
{
    awk -v name="$1" 'BEGIN { name = tolower(name) ":" }
        tolower(substr($0, 1, length(name))) == name { v = substr($0, length(name) + 1)
            sub(/^[ \t]+/, "", v); print v }' "$T/headers"
}
[ "$(header_values content-type)" = "text/plain; version=0.0.4; charset=utf-8" ]
result "GET /metrics has exactly one Content-Type: text/plain; version=0.0.4; charset=utf-8" ||
    note_file "$T/headers"
py_checks expo_check.py text "$T/body"

grep -q "^sonde_build_info{version=\"$(cat VERSION)\"} 1\$" "$T/body"
result "sonde_build_info{version=\"$(cat VERSION)\"} 1 is present" ||
    note "$(grep sonde_build_info "$T/body")"
grep -q '^sonde_input_read_duration_seconds{input="cpu"} [0-9.e+-]*$' "$T/body"
result 'sonde_input_read_duration_seconds{input="cpu"} is present'
grep -q '^sonde_http_scrapes_total [0-9]' "$T/body"
result "sonde_http_scrapes_total is present"

# ---- promtool: no parse error; no lint finding node_exporter's own names do not carry ----
promtool check metrics <"$T/body" >"$T/promtool.sonde" 2>&1
prc=$?
[ "$prc" -ne 1 ] && ! grep -q -i 'error' "$T/promtool.sonde"
result "promtool check metrics parses sonde's body (status $prc: 0 clean, 3 lint findings)" ||
    note_file "$T/promtool.sonde"

# The reference: promtool's findings on node_exporter's output on this machine, its
# default collectors (meminfo's camelCase names, entropy's _bits ...).
ne_port=$(free_port $((port + 1)))
spawn node_exporter prometheus-node-exporter --web.listen-address="127.0.0.1:$ne_port"
ne_pid=$SPAWNED
if wait_http "http://127.0.0.1:$ne_port/metrics" 10 "$ne_pid"; then
    curl -s --max-time 10 -o "$T/ne.body" "http://127.0.0.1:$ne_port/metrics"
    promtool check metrics <"$T/ne.body" >"$T/promtool.ne" 2>&1
    sort -u "$T/promtool.ne" >"$T/promtool.ne.sorted"
    sort -u "$T/promtool.sonde" | comm -23 - "$T/promtool.ne.sorted" >"$T/promtool.extra"
    [ ! -s "$T/promtool.extra" ]
    result "promtool finds nothing in sonde's body beyond node_exporter's own findings" ||
        note_file "$T/promtool.extra" 40
    note "promtool: $(wc -l <"$T/promtool.sonde") findings on sonde," \
        "$(wc -l <"$T/promtool.ne") on node_exporter"
else
    not_ok "node_exporter (reference for promtool findings) starts"
    note_file "$T/node_exporter.err"
fi
stop "$ne_pid" 5

# ---- OpenMetrics ----
curl -s --max-time 5 -D "$T/h" -o "$T/om.body" \
    -H 'Accept: application/openmetrics-text;version=1.0.0' "$base/metrics"
tr -d '\r' <"$T/h" >"$T/headers"
om_type="application/openmetrics-text; version=1.0.0; charset=utf-8"
[ "$(header_values content-type)" = "$om_type" ]
result "Accept: application/openmetrics-text;version=1.0.0 gives the OpenMetrics content type" ||
    note_file "$T/headers"
tail -c 6 "$T/om.body" | grep -q -x '# EOF'
result "the OpenMetrics body ends with # EOF" || note "$(tail -c 80 "$T/om.body")"
py_checks expo_check.py --openmetrics openmetrics "$T/om.body"

# ---- gzip ----
curl -s --max-time 5 -D "$T/h" -o "$T/gz.body" -H 'Accept-Encoding: gzip' "$base/metrics"
tr -d '\r' <"$T/h" >"$T/headers"
[ "$(header_values content-encoding)" = gzip ]
result "Accept-Encoding: gzip gives Content-Encoding: gzip" || note_file "$T/headers"
gzip -dc <"$T/gz.body" >"$T/gunzipped" 2>"$T/e"
result "the gzip body gunzips" || note_file "$T/e"
promtool check metrics <"$T/gunzipped" >"$T/promtool.gz" 2>&1
[ $? -ne 1 ] && [ -s "$T/gunzipped" ] && ! grep -q -i error "$T/promtool.gz"
result "the gunzipped body is valid exposition (promtool parses it)" ||
    note_file "$T/promtool.gz"
# Same families as the plain body (values may have moved on since).
grep '^# TYPE' "$T/body" >"$T/types.plain"
grep '^# TYPE' "$T/gunzipped" >"$T/types.gz"
cmp -s "$T/types.plain" "$T/types.gz"
result "the gunzipped body has the same families as the plain one" ||
    note "$(diff "$T/types.plain" "$T/types.gz" | head -10)"
curl -s --max-time 5 -D "$T/h" -o "$T/q0.body" -H 'Accept-Encoding: gzip;q=0' "$base/metrics"
! grep -q -i '^content-encoding:' "$T/h" && head -c 7 "$T/q0.body" | grep -q '^# HELP'
result "Accept-Encoding: gzip;q=0 gives an uncompressed body" || note_file "$T/h"

# ---- HEAD, /, 404, 405 ----
curl -s --max-time 5 -I -o "$T/h" "$base/metrics"
tr -d '\r' <"$T/h" >"$T/headers"
head -1 "$T/headers" | grep -q '^HTTP/1\.[01] 200' &&
    [ "$(header_values content-type)" = "text/plain; version=0.0.4; charset=utf-8" ]
result "HEAD /metrics is 200 with the exposition content type" || note_file "$T/headers"

curl -s --max-time 5 -D "$T/h" -o "$T/index" "$base/"
tr -d '\r' <"$T/h" >"$T/headers"
head -1 "$T/headers" | grep -q '^HTTP/1\.[01] 200' &&
    grep -q -i '^content-type: text/html' "$T/headers" &&
    grep -q -i '<html' "$T/index" && grep -q 'href="/metrics"' "$T/index"
result "GET / is 200 HTML linking to /metrics" || note_file "$T/index"

[ "$(http_status "$base/other")" = 404 ]
result "GET /other is 404"
[ "$(http_status "$base/metrics/extra")" = 404 ]
result "GET /metrics/extra is 404"
[ "$(http_status "$base/metrics" -X POST -d x=1)" = 405 ]
result "POST /metrics is 405"
[ "$(http_status "$base/metrics" -X DELETE)" = 405 ]
result "DELETE /metrics is 405"

# ---- scrape count goes up across collection rounds ----
# Self-metrics are published once per round (1 s): after 3 more scrapes, a later round
# must report at least 3 more.
s0=$(metric_value "$base/metrics" sonde_http_scrapes_total)
scrapes_grew()
{
    _v=$(metric_value "$base/metrics" sonde_http_scrapes_total)
    [ -n "$_v" ] && [ -n "$s0" ] && [ "${_v%%.*}" -ge $((${s0%%.*} + 3)) ]
}
wait_for 6 scrapes_grew
result "sonde_http_scrapes_total goes up across collection rounds (was ${s0:-missing})" ||
    note "now: $(metric_value "$base/metrics" sonde_http_scrapes_total)"
r0=$(metric_value "$base/metrics" 'sonde_input_reads_total{input="cpu"}')
reads_grew()
{
    _v=$(metric_value "$base/metrics" 'sonde_input_reads_total{input="cpu"}')
    [ -n "$_v" ] && [ -n "$r0" ] && [ "${_v%%.*}" -ge $((${r0%%.*} + 2)) ]
}
wait_for 6 reads_grew
result "the cpu input is read every second (reads ${r0:-missing} -> +2 within 6 s)"

# ---- process_* self-metrics agree with what the kernel says of the process ----
# RSS within 25% of VmRSS and virtual size within 25% of VmSize (read a moment apart);
# CPU seconds positive and at most what /proc/PID/stat counts, plus one round's worth.
metric_value "$base/metrics" process_resident_memory_bytes >"$T/rss"
metric_value "$base/metrics" process_virtual_memory_bytes >"$T/vsz"
metric_value "$base/metrics" process_cpu_seconds_total >"$T/cpu"
vm_rss=$(awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$pid/status")
vm_size=$(awk '/^VmSize:/ {print $2 * 1024}' "/proc/$pid/status")
ticks=$(awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$pid/stat")
hz=$(getconf CLK_TCK)
awk -v rss="$(cat "$T/rss")" -v vsz="$(cat "$T/vsz")" -v real_rss="$vm_rss" -v real_vsz="$vm_size" \
    'BEGIN { exit !(rss > 0 && rss > 0.75 * real_rss && rss < 1.25 * real_rss &&
                    vsz > 0.75 * real_vsz && vsz < 1.25 * real_vsz) }'
result "process_resident/virtual_memory_bytes ($(cat "$T/rss"), $(cat "$T/vsz")) match VmRSS $vm_rss, VmSize $vm_size"
awk -v cpu="$(cat "$T/cpu")" -v ticks="$ticks" -v hz="$hz" \
    'BEGIN { exit !(cpu > 0 && cpu <= ticks / hz + 1.05) }'
result "process_cpu_seconds_total ($(cat "$T/cpu")) is within what /proc/PID/stat counts ($ticks ticks)"

# ---- keep-alive: a Prometheus server reuses its connection between scrapes ----
curl -sv --max-time 5 -o /dev/null -o /dev/null "$base/metrics" "$base/metrics" 2>"$T/ka.err"
grep -q "Re-using existing connection" "$T/ka.err" && ! grep -qi "^< connection: close" "$T/ka.err"
result "two scrapes share one kept-alive connection" || note_file "$T/ka.err"

# ---- the body is rendered per change of the data, not per scrape ----
# 40 scrapes in a burst, then a round later the counters say how many bodies were
# rendered: a renderer working per scrape would show at least 40.
g0=$(metric_value "$base/metrics" sonde_http_renders_total)
c0=$(metric_value "$base/metrics" sonde_http_scrapes_total)
i=0
while [ $i -lt 40 ]; do
    curl -s --max-time 2 -o /dev/null "$base/metrics"
    i=$((i + 1))
done
counted()
{
    _c=$(metric_value "$base/metrics" sonde_http_scrapes_total)
    [ -n "$_c" ] && [ -n "$c0" ] && [ "${_c%%.*}" -ge $((${c0%%.*} + 40)) ]
}
wait_for 6 counted
g1=$(metric_value "$base/metrics" sonde_http_renders_total)
[ -n "$g0" ] && [ -n "$g1" ] && [ $((${g1%%.*} - ${g0%%.*})) -le 10 ]
result "40 scrapes within a few rounds render at most 10 bodies (${g0:-?} -> ${g1:-?})"

# ---- --web.telemetry-path ----
mport=$(free_port $((port + 2)))
spawn sonde_m "$SONDE" --config "$cfg" --web.listen-address "127.0.0.1:$mport" \
    --web.telemetry-path=/m
m_pid=$SPAWNED
if wait_http "http://127.0.0.1:$mport/m" 10 "$m_pid"; then
    curl -s --max-time 5 -o "$T/m.body" "http://127.0.0.1:$mport/m"
    grep -q '^node_load1 ' "$T/m.body"
    result "--web.telemetry-path=/m serves the metrics on /m"
    [ "$(http_status "http://127.0.0.1:$mport/metrics")" = 404 ]
    result "with --web.telemetry-path=/m, /metrics is 404"
    curl -s --max-time 5 "http://127.0.0.1:$mport/" | grep -q 'href="/m"'
    result "with --web.telemetry-path=/m, / links to /m"
else
    not_ok "--web.telemetry-path=/m serves the metrics on /m"
    note_file "$T/sonde_m.err"
fi
kill -INT "$m_pid"
wait_gone "$m_pid" 5
result "SIGINT stops sonde within 5 s" || kill -KILL "$m_pid"
wait "$m_pid"
m_rc=$?
[ "$m_rc" -eq 0 ]
result "sonde exits 0 on SIGINT" || note "exit status $m_rc"

# ---- SIGHUP reload ----
# A new set of inputs: cpu and system only (mem, disk ... go away).
cat >"$cfg.new" <<EOF
agent:
  interval: 1s
web:
  listen_address: "127.0.0.1:$port"
inputs:
  cpu: {}
  system: {}
EOF
mv "$cfg.new" "$cfg"
kill -HUP "$pid"
reloaded()
{
    curl -s --max-time 2 "$base/metrics" >"$T/r.body" || return 1
    grep -q '^node_load1 ' "$T/r.body" && grep -q '^node_cpu_seconds_total' "$T/r.body" &&
        ! grep -q '^node_memory_' "$T/r.body" && ! grep -q 'input="mem"' "$T/r.body"
}
wait_for 10 reloaded
result "SIGHUP applies a changed set of inputs (mem, disk ... gone; cpu, system kept)" ||
    note "$(grep -c '^node_memory_' "$T/r.body") node_memory_ samples still there"
alive "$pid"
result "sonde keeps running across the reload (same pid $pid)"
grep -q 'reload' "$T/sonde.err"
result "the reload is logged" || note_file "$T/sonde.err"

# A broken file: sonde must say where, and keep the running configuration.
printf 'agent:\n  interval: 1s\ninputs:\n  cpu: {}\n  bogus_input: {}\n' >"$cfg.new"
mv "$cfg.new" "$cfg"
kill -HUP "$pid"
rejected()
{
    grep -q -F "$cfg:5:3: " "$T/sonde.err"
}
wait_for 5 rejected
result "a SIGHUP with a broken file logs FILE:5:3: for it" || note_file "$T/sonde.err"
sleep 0.5
alive "$pid"
result "sonde keeps running after a SIGHUP with a broken file"
r1=$(metric_value "$base/metrics" 'sonde_input_reads_total{input="system"}')
still_old()
{
    curl -s --max-time 2 "$base/metrics" >"$T/r.body" || return 1
    _v=$(awk '$1 == "sonde_input_reads_total{input=\"system\"}" { print $2 }' "$T/r.body")
    grep -q '^node_load1 ' "$T/r.body" && [ -n "$_v" ] && [ -n "$r1" ] &&
        [ "${_v%%.*}" -gt "${r1%%.*}" ]
}
wait_for 6 still_old
result "after the rejected reload the old configuration keeps collecting (system input)" ||
    note "reads of system: $r1 -> $(awk '$1 ~ /input="system"/ && /reads_total/' "$T/r.body")"

# ---- SIGTERM ----
kill -TERM "$pid"
wait_gone "$pid" 5
result "SIGTERM stops sonde within 5 s" || kill -KILL "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 0 ]
result "sonde exits 0 on SIGTERM" || { note "exit status $rc"; note_file "$T/sonde.err"; }
[ "$(http_status "$base/metrics")" = 000 ]
result "the port is closed after SIGTERM"

done_testing
