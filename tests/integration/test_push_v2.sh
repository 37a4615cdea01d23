#!/bin/sh
# test_push_v2.sh - sonde's influxdb_v2 output. No InfluxDB 2 server is packaged, so: against
# VictoriaMetrics' /api/v2/write (the Debian victoria-metrics package, on a loopback port with
# its own data; the influxdb output to its /write too), where the data must be queryable;
# and against push_v2.py's recording server, which checks the requests (path, org, bucket,
# precision, token, gzip) and answers 204, 503, 429, 400 (partial write), 422, 401 and 413
# as each scenario asks, to check retries, Retry-After, rejections, splits and the counters.
. tests/integration/lib.sh # uses this script's $1, the sonde binary

vm_port=$(free_port 19460)
vm=http://127.0.0.1:$vm_port
spawn vm victoria-metrics -httpListenAddr "127.0.0.1:$vm_port" -storageDataPath "$T/vm" \
    -loggerLevel ERROR
vm_pid=$SPAWNED
wait_http "$vm/health" 20 "$vm_pid"
result "victoria-metrics answers /health on 127.0.0.1:$vm_port" || {
    note_file "$T/vm.err"
    done_testing
}
python3 "$IT_DIR/listeners.py" "$vm_pid" | sort -u >"$T/vm.listeners"
[ "$(cat "$T/vm.listeners")" = "tcp 0100007F $vm_port" ]
result "victoria-metrics listens on 127.0.0.1:$vm_port only" || note "$(cat "$T/vm.listeners")"

py_checks push_v2.py "$SONDE" "$T" "$vm"

stop "$vm_pid" 15
[ "$STOP_TIMED_OUT" -eq 0 ]
result "victoria-metrics stops on SIGTERM" || note_file "$T/vm.err"
done_testing
