#!/bin/sh
# test_node_exporter.sh - sonde's Prometheus names against the real node_exporter on this
# host: the same names, TYPEs, label sets and values (within the bounds compare_ne.py
# explains) for the collectors sonde's host inputs replace.
. tests/integration/lib.sh # uses this script's $1, the sonde binary

ne_port=$(free_port 19140)
sonde_port=$(free_port $((ne_port + 1)))

# Only the collectors sonde covers, with node_exporter 1.5's upstream defaults otherwise:
# Debian's package patches two defaults (mount points also exclude /run, /mnt, /media;
# netdev excludes lo), so those two are passed as upstream has them. sonde documents
# upstream's filters (plugins/disk.c); the others (fs types, diskstats devices, netlink
# for netdev) are the package's, which equal upstream's.
upstream_mount_points_exclude='^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|'\
'var/lib/containers/storage/.+)($|/)'
# A textfile directory for both (Debian's package defaults to /var/lib/prometheus/
# node-exporter, upstream to none): HELP/TYPE, default HELP, label sets filled in.
mkdir -p "$T/textfile"
printf '%s\n' '# HELP node_textfile_test_info A file for the comparison.' \
    '# TYPE node_textfile_test_info gauge' 'node_textfile_test_info{a="1"} 1' \
    'node_textfile_test_info{b="x y"} 2' 'node_textfile_test_untyped 3' >"$T/textfile/test.prom"
spawn node_exporter prometheus-node-exporter --web.listen-address="127.0.0.1:$ne_port" \
    --collector.disable-defaults --collector.cpu --collector.meminfo --collector.loadavg \
    --collector.stat --collector.netdev --collector.diskstats --collector.filesystem \
    --collector.vmstat --collector.netstat --collector.sockstat --collector.softnet \
    --collector.udp_queues --collector.arp --collector.conntrack \
    --collector.netclass --collector.hwmon --collector.thermal_zone \
    --collector.powersupplyclass --collector.cpufreq \
    --collector.timex --collector.time --collector.uname --collector.os --collector.filefd \
    --collector.entropy --collector.pressure --collector.schedstat --collector.processes \
    --collector.interrupts --collector.textfile --collector.textfile.directory="$T/textfile" \
    --collector.filesystem.mount-points-exclude="$upstream_mount_points_exclude" \
    --collector.netdev.device-exclude=
ne_pid=$SPAWNED

cat >"$T/sonde.yaml" <<EOF
agent:
  interval: 500ms
web:
  listen_address: "127.0.0.1:$sonde_port"
inputs:
  cpu: {}
  mem: {}
  swap: {}
  system: {}
  kernel: {}
  net: {}
  diskio: {}
  disk: {}
  vmstat: {}
  netstat: {}
  sockstat: {}
  softnet: {}
  udp_queues: {}
  arp: {}
  conntrack: {}
  netclass: {}
  hwmon: {}
  thermal_zone: {}
  powersupplyclass: {}
  cpufreq: {}
  timex: {}
  time: {}
  uname: {}
  os: {}
  filefd: {}
  entropy: {}
  pressure: {}
  schedstat: {}
  processes: {}
  interrupts: {}
  textfile:
    directory: "$T/textfile"
EOF
spawn sonde "$SONDE" --config "$T/sonde.yaml"
sonde_pid=$SPAWNED

wait_http "http://127.0.0.1:$ne_port/metrics" 10 "$ne_pid"
result "node_exporter starts on 127.0.0.1:$ne_port" || note_file "$T/node_exporter.err"
wait_http "http://127.0.0.1:$sonde_port/metrics" 10 "$sonde_pid"
result "sonde starts on 127.0.0.1:$sonde_port" || note_file "$T/sonde.err"

py_checks compare_ne.py "http://127.0.0.1:$ne_port/metrics" \
    "http://127.0.0.1:$sonde_port/metrics"

stop "$sonde_pid" 5
[ "$STOP_RC" -eq 0 ] && [ "$STOP_TIMED_OUT" -eq 0 ]
result "sonde stops cleanly on SIGTERM" || {
    note "exit status $STOP_RC"
    note_file "$T/sonde.err"
}
stop "$ne_pid" 5

done_testing
