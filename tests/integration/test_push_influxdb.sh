#!/bin/sh
# test_push_influxdb.sh - sonde's influxdb output against a real InfluxDB 1.x (the Debian
# influxdb package, on loopback ports with its own data, stopped and restarted by the test):
# every sample of a run arrives; an outage of 20 s leaves no gap and no duplicate; a disk
# spool delivers after SIGKILL and after a corrupt tail; a tiny memory queue stays bounded
# and drops the oldest, counted; a reload keeps what is queued; InfluxDB's partial writes
# are counted as rejected; retention_policy is honoured. Beside the influxdb output each
# sonde has the stdout output: what it printed is the record of what was sampled
# (push_influx.py compares).
. tests/integration/lib.sh # uses this script's $1, the sonde binary

http_port=$(free_port 19360)
rpc_port=$(free_port $((http_port + 1)))
base=http://127.0.0.1:$http_port
mkdir -p "$T/influx"
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

pinged()
{
    [ "$(http_status "$base/ping")" = 204 ]
}

# influx_start LABEL / influx_stop LABEL: the same server (port, data) each time.
influx_pid=""
influx_start()
{
    spawn "influxd-$1" influxd run -config "$T/influx/influxdb.conf"
    influx_pid=$SPAWNED
    wait_for 30 pinged
    result "influxd ($1) answers /ping on 127.0.0.1:$http_port" || note_file "$T/influxd-$1.err"
}
influx_stop()
{
    stop "$influx_pid" 15
    [ "$STOP_TIMED_OUT" -eq 0 ] && ! pinged
    result "influxd ($1) stops on SIGTERM and no longer answers" || note_file "$T/influxd-$1.err"
}

influx_start first || done_testing
for db in ta tcycles tb tc td te tf tg th; do
    curl -s -o /dev/null --max-time 10 -XPOST "$base/query" --data-urlencode "q=CREATE DATABASE $db"
done
curl -s --max-time 10 "$base/query" --data-urlencode "q=SHOW DATABASES" | grep -q '"th"'
result "databases created" || done_testing

# conf NAME DB INTERVAL EXTRA: a config with the mem (first: push_influx.py counts rounds
# by it), kernel, system and cpu inputs, the influxdb output (EXTRA: more of its options,
# each line indented by 6) and stdout after it, so that a line printed was queued (and
# spooled) before. The net input matches no interface: it queues nothing, and its 100 ms
# rounds publish self-metrics snapshots in which the sender may have emptied the queue (see
# push_influx.py settle). NET=no leaves it out (--cycles counts its rounds too).
conf()
{
    mport=$(free_port 19380)
    net='  net: {interval: 100ms, interfaces: ["none-such*"]}'
    [ "${NET:-}" = no ] && net=""
    cat >"$T/$1.yaml" <<EOF
agent:
  interval: $3
  hostname: it-push
web:
  listen_address: "127.0.0.1:$mport"
inputs:
  mem: {}
  kernel: {}
  system: {}
  cpu: {}
$net
outputs:
  influxdb:
    - url: $base
      database: $2
      flush_interval: 200ms
      max_retry_interval: 2s
$4
  stdout: {}
EOF
    echo "$mport" >"$T/$1.port"
}
metrics_url()
{
    echo "http://127.0.0.1:$(cat "$T/$1.port")/metrics"
}
# reads NAME: mem reads so far (0 if the endpoint does not answer).
reads()
{
    metric_value "$(metrics_url "$1")" 'sonde_input_reads_total{input="mem"}' 2>/dev/null ||
        echo 0
}
at_least_reads()
{
    [ "$(reads "$1" | cut -d. -f1)" -ge "$2" ]
}
printed_mem()
{
    [ "$(grep -c '^mem,' "$T/$1.out" 2>/dev/null)" -ge "$2" ]
}

# ---- (a) every sample of a run arrives ----
conf a ta 500ms
spawn a "$SONDE" --config "$T/a.yaml"
a_pid=$SPAWNED
wait_for 20 at_least_reads a 10
result "(a) sonde samples every 500 ms (10 rounds within 20 s)" || note_file "$T/a.err"
py_checks push_influx.py settle "$(metrics_url a)" influxdb "$T/a.snap" "(a)" --reads 10
stop "$a_pid" 10
[ "$STOP_RC" -eq 0 ] && [ "$STOP_TIMED_OUT" -eq 0 ]
result "(a) sonde exits 0 on SIGTERM" || note_file "$T/a.err"
py_checks push_influx.py compare "$base" ta "$T/a.out" "(a)" --snapshot "$T/a.snap"
mem_lines=$(grep -c '^mem,' "$T/a.out")
py_checks push_influx.py compare "$base" ta "$T/a.out" "(a) after SIGTERM" --rounds "$mem_lines"

# The same with --cycles: sonde stops by itself after N rounds and flushes.
NET=no conf cycles tcycles 500ms
sonde_fg --config "$T/cycles.yaml" --cycles 8 >"$T/cycles.out" 2>"$T/cycles.err"
result "(a) sonde --cycles 8 exits 0 by itself" || note_file "$T/cycles.err"
py_checks push_influx.py compare "$base" tcycles "$T/cycles.out" "(a) --cycles 8" --rounds 8

# ---- (b) InfluxDB down for 20 s while sonde samples every 500 ms ----
conf b tb 500ms
spawn b "$SONDE" --config "$T/b.yaml"
b_pid=$SPAWNED
wait_for 20 at_least_reads b 6
result "(b) sonde runs 6 rounds before the outage" || note_file "$T/b.err"
influx_stop "outage"
down_at=$(date +%s.%N)
sleep 20
up_at=$(date +%s.%N)
influx_start "after the outage"
py_checks push_influx.py settle "$(metrics_url b)" influxdb "$T/b.snap" "(b)" --timeout 40
retries=$(awk '$1 == "sonde_output_retries_total{output=\"influxdb\"}" { print $2 }' "$T/b.snap")
[ -n "$retries" ] && [ "${retries%%.*}" -ge 3 ]
result "(b) the failed attempts were counted as retries ($retries)"
grep -q 'output influxdb' "$T/b.err"
result "(b) the failures were logged" || note_file "$T/b.err"
stop "$b_pid" 10
[ "$STOP_RC" -eq 0 ] && [ "$STOP_TIMED_OUT" -eq 0 ]
result "(b) sonde exits 0 on SIGTERM" || note_file "$T/b.err"
py_checks push_influx.py compare "$base" tb "$T/b.out" "(b)" --snapshot "$T/b.snap"
py_checks push_influx.py gaps "$base" tb "$T/b.out" "(b)" --interval-ms 500 \
    --window "$down_at" "$up_at"

# ---- (c) spool: backend down, sonde SIGKILLed, both restarted ----
influx_stop "for the spool"
conf c tc 500ms "      spool: {dir: $T/spool-c}"
spawn c1 "$SONDE" --config "$T/c.yaml"
c_pid=$SPAWNED
wait_for 20 printed_mem c1 6
result "(c) sonde with a spool samples 6 rounds while InfluxDB is down" || note_file "$T/c1.err"
kill -KILL "$c_pid"
wait_gone "$c_pid" 5
result "(c) sonde is killed with SIGKILL"
ls "$T/spool-c"/seg-* >/dev/null 2>&1
result "(c) the spool holds segments after the kill" || note "$(ls -la "$T/spool-c")"
influx_start "after the kill"
spawn c2 "$SONDE" --config "$T/c.yaml"
c_pid=$SPAWNED
# Everything the killed sonde printed was spooled first: it must all arrive.
py_checks push_influx.py compare "$base" tc "$T/c1.out" "(c) samples taken before the kill" \
    --subset --wait 30
grep -q 'to replay' "$T/c2.err"
result "(c) the restarted sonde says it replays the spool" || note_file "$T/c2.err"
stop "$c_pid" 10
[ "$STOP_RC" -eq 0 ] && [ "$STOP_TIMED_OUT" -eq 0 ]
result "(c) the restarted sonde exits 0 on SIGTERM" || note_file "$T/c2.err"
cat "$T/c1.out" "$T/c2.out" >"$T/c.all"
py_checks push_influx.py compare "$base" tc "$T/c.all" "(c) both runs"
! ls "$T/spool-c"/seg-* >/dev/null 2>&1
result "(c) once everything was delivered the spool holds no segment" ||
    note "$(ls -la "$T/spool-c")"

# ---- (d) a corrupt spool tail ----
influx_stop "for the corrupt tail"
conf d td 500ms "      spool: {dir: $T/spool-d}
      flush_timeout: 1s"
spawn d1 "$SONDE" --config "$T/d.yaml"
d_pid=$SPAWNED
wait_for 20 printed_mem d1 6
result "(d) sonde with a spool samples 6 rounds while InfluxDB is down" || note_file "$T/d1.err"
stop "$d_pid" 10
[ "$STOP_RC" -eq 0 ] && [ "$STOP_TIMED_OUT" -eq 0 ]
result "(d) sonde exits 0 on SIGTERM with the backend down (flush_timeout 1s)" ||
    note_file "$T/d1.err"
seg="" # the newest segment: names sort by number
for f in "$T/spool-d"/seg-*; do
    [ -f "$f" ] && seg=$f
done
[ -n "$seg" ]
result "(d) the spool kept the unsent lines in a segment" || note "$(ls -la "$T/spool-d")"
if [ -n "$seg" ]; then
    size=$(wc -c <"$seg")
    # A torn record: a plausible header (magic, version, a length past the end), then junk.
    printf 'SQ\001\000\377\000\000\000garbage after the last good record' >>"$seg"
    note "appended $(($(wc -c <"$seg") - size)) bytes of garbage to" \
        "$(basename "$seg") ($size bytes)"
fi
influx_start "after the corruption"
spawn d2 "$SONDE" --config "$T/d.yaml"
d_pid=$SPAWNED
wait_http "$(metrics_url d)" 10 "$d_pid"
result "(d) sonde starts on the corrupt spool and serves its endpoint" || note_file "$T/d2.err"
grep -Eiq 'warn.*spool.*(torn|bad record|corrupt)' "$T/d2.err"
result "(d) sonde warns about the corrupt tail" || note_file "$T/d2.err"
py_checks push_influx.py compare "$base" td "$T/d1.out" "(d) the valid spooled records" \
    --subset --wait 30
wait_for 20 printed_mem d2 4
corrupt=$(metric_value "$(metrics_url d)" \
    'sonde_output_spool_corrupt_records_total{output="influxdb"}')
[ "${corrupt%%.*}" -ge 1 ] 2>/dev/null
result "(d) sonde_output_spool_corrupt_records_total counts the bad record ($corrupt)"
stop "$d_pid" 10
[ "$STOP_RC" -eq 0 ] && [ "$STOP_TIMED_OUT" -eq 0 ]
result "(d) sonde exits 0 on SIGTERM" || note_file "$T/d2.err"
cat "$T/d1.out" "$T/d2.out" >"$T/d.all"
py_checks push_influx.py compare "$base" td "$T/d.all" "(d) both runs (appends after the cut)"

# ---- (e) a tiny memory queue with the backend down ----
influx_stop "for the queue bound"
conf e te 200ms "      queue_limit: 4KiB"
spawn e "$SONDE" --config "$T/e.yaml"
e_pid=$SPAWNED
wait_for 10 at_least_reads e 3
result "(e) sonde with queue_limit 4KiB runs with InfluxDB down" || note_file "$T/e.err"
eurl=$(metrics_url e)
sample_e()
{
    qb=$(metric_value "$eurl" 'sonde_output_queue_bytes{output="influxdb"}')
    dr=$(metric_value "$eurl" 'sonde_output_samples_dropped_total{output="influxdb"}')
    echo "${qb%%.*} ${dr%%.*}"
}
: >"$T/e.samples"
i=0
while [ $i -lt 12 ]; do
    sample_e >>"$T/e.samples"
    sleep 0.5
    i=$((i + 1))
done
note "queue bytes and dropped every 0.5 s: $(tr '\n' ';' <"$T/e.samples")"
awk '$1 == "" || $1 > 4096 { bad = 1 } END { exit bad }' "$T/e.samples"
result "(e) sonde_output_queue_bytes stays <= queue_limit (4096) throughout"
awk 'NR == 1 { first = $2 } { last = $2 } END { exit !(last > first && first >= 0) }' \
    "$T/e.samples"
result "(e) sonde_output_samples_dropped_total grows while the backend is down"
influx_start "after the overflow"
py_checks push_influx.py settle "$eurl" influxdb "$T/e.snap" "(e)" --timeout 30
py_checks push_influx.py dropped "$base" te "$T/e.out" "$T/e.snap" "(e)"
stop "$e_pid" 10
[ "$STOP_RC" -eq 0 ] && [ "$STOP_TIMED_OUT" -eq 0 ]
result "(e) sonde exits 0 on SIGTERM" || note_file "$T/e.err"

# Memory: every input every 50 ms (some 60 kB of line protocol a second) into a 4 KiB
# queue with nothing listening: resident memory must not follow the volume sampled.
e2port=$(free_port 19390)
dead=$(free_port 19395) # nothing listens there
cat >"$T/e2.yaml" <<EOF
agent:
  interval: 50ms
web:
  listen_address: "127.0.0.1:$e2port"
inputs:
  mem: {}
  kernel: {}
  system: {}
  cpu: {}
  net: {}
  diskio: {}
  disk: {}
outputs:
  influxdb:
    - url: http://127.0.0.1:$dead
      database: none
      queue_limit: 4KiB
      max_retry_interval: 1s
  stdout: {}
EOF
spawn e2 "$SONDE" --config "$T/e2.yaml"
e2_pid=$SPAWNED
wait_http "http://127.0.0.1:$e2port/metrics" 10 "$e2_pid"
result "(e) sonde samples every input every 50 ms, the backend unreachable" ||
    note_file "$T/e2.err"
sleep 1
rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$e2_pid/status")
out0=$(wc -c <"$T/e2.out")
sleep 5
rss1=$(awk '/^VmRSS:/ { print $2 }' "/proc/$e2_pid/status")
out1=$(wc -c <"$T/e2.out")
qb=$(metric_value "http://127.0.0.1:$e2port/metrics" \
    'sonde_output_queue_bytes{output="influxdb"}')
sampled=$(((out1 - out0) / 1024))
note "VmRSS $rss0 -> $rss1 kB while $sampled kB of line protocol were sampled; queue $qb bytes"
msg="(e) resident memory grows by less than half of what was sampled into the 4 KiB queue"
msg="$msg (grew $((rss1 - rss0)) kB in 5 s, sampled $sampled kB)"
[ "$sampled" -gt 100 ] && [ $((rss1 - rss0)) -lt $((sampled / 2)) ] && [ "${qb%%.*}" -le 4096 ]
result "$msg"
stop "$e2_pid" 10
[ "$STOP_RC" -eq 0 ] && [ "$STOP_TIMED_OUT" -eq 0 ]
result "(e) sonde exits 0 on SIGTERM with the backend unreachable" || note_file "$T/e2.err"

# ---- (f) a reload (SIGHUP) while the backend is down keeps the memory queue ----
influx_stop "for the reload"
conf f tf 500ms
spawn f "$SONDE" --config "$T/f.yaml"
f_pid=$SPAWNED
wait_for 20 printed_mem f 4
result "(f) sonde samples 4 rounds while InfluxDB is down" || note_file "$T/f.err"
# out_counter NAME: sonde_output_NAME_total of the influxdb output now (empty if none).
out_counter()
{
    curl -s --max-time 5 "$(metrics_url f)" |
        awk -v n="sonde_output_$1_total{output=\"influxdb\"}" '$1 == n { print $2 }'
}
requests0=$(out_counter requests)
kill -HUP "$f_pid"
reloaded()
{
    grep -q 'reload: configuration' "$T/f.err"
}
wait_for 10 reloaded
result "(f) sonde reloads its configuration on SIGHUP" || note_file "$T/f.err"
requests1=$(out_counter requests)
[ -n "$requests0" ] && [ "${requests0%%.*}" -gt 0 ] && [ -n "$requests1" ] &&
    [ "${requests1%%.*}" -ge "${requests0%%.*}" ]
result "(f) the output's counters go on across the reload (requests $requests0, then $requests1)"
wait_for 20 printed_mem f 8
influx_start "after the reload"
py_checks push_influx.py settle "$(metrics_url f)" influxdb "$T/f.snap" "(f)" --timeout 30
stop "$f_pid" 10
[ "$STOP_RC" -eq 0 ] && [ "$STOP_TIMED_OUT" -eq 0 ]
result "(f) sonde exits 0 on SIGTERM" || note_file "$T/f.err"
awk '$1 ~ /^sonde_output_samples_(dropped|rejected)_total\{output="influxdb"\}$/ && $2 != 0 {
    bad = 1 } END { exit bad }' "$T/f.snap"
result "(f) nothing was dropped or rejected across the reload"
# Every line, sampled before or after the reload, arrives. (No --snapshot: the reload
# restarts the read counts, while the queue, and its queued count, carry over.)
py_checks push_influx.py compare "$base" tf "$T/f.out" "(f)"

# ---- (g) a real partial write: InfluxDB drops the lines whose field type conflicts ----
# mem's "total" is an integer in sonde's lines; written first as a string, every mem line
# conflicts (in this shard), and InfluxDB answers 400 "partial write: ... dropped=N".
now=$(date +%s)
curl -s -o /dev/null --max-time 10 -XPOST "$base/write?db=tg&precision=s" \
    --data-binary "mem,host=it-push total=\"conflict\" $((now - 1))"
conf g tg 500ms
spawn g "$SONDE" --config "$T/g.yaml"
g_pid=$SPAWNED
wait_for 20 at_least_reads g 4
result "(g) sonde samples 4 rounds" || note_file "$T/g.err"
py_checks push_influx.py settle "$(metrics_url g)" influxdb "$T/g.snap" "(g)" --reads 4
stop "$g_pid" 10
[ "$STOP_RC" -eq 0 ] && [ "$STOP_TIMED_OUT" -eq 0 ]
result "(g) sonde exits 0 on SIGTERM" || note_file "$T/g.err"
grep -q 'HTTP 400: .*rejected: .*partial write' "$T/g.err"
result "(g) the partial write is logged with InfluxDB's answer" || note_file "$T/g.err"
py_checks push_influx.py partial "$base" tg "$T/g.out" "$T/g.snap" "(g)" --measurement mem

# ---- (h) retention_policy: the points land in the policy named ----
curl -s -o /dev/null --max-time 10 -XPOST "$base/query" \
    --data-urlencode 'q=CREATE RETENTION POLICY "two days" ON th DURATION 2d REPLICATION 1'
NET=no conf h th 500ms '      retention_policy: "two days"'
sonde_fg --config "$T/h.yaml" --cycles 3 >"$T/h.out" 2>"$T/h.err"
result "(h) sonde --cycles 3 with retention_policy exits 0" || note_file "$T/h.err"
py_checks push_influx.py compare "$base" th "$T/h.out" "(h) retention policy \"two days\"" \
    --rp "two days" --rounds 3
n=$(curl -s --max-time 10 "$base/query?db=th" --data-urlencode 'q=SELECT count(*) FROM /.*/' |
    grep -c '"series"')
[ "$n" -eq 0 ]
result "(h) the default retention policy holds nothing"

influx_stop "at the end"
done_testing
