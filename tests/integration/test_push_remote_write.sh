#!/bin/sh
# test_push_remote_write.sh - sonde's remote_write output against a real VictoriaMetrics (the
# Debian victoria-metrics package) and a real Prometheus with --web.enable-remote-write-receiver
# (the Debian prometheus package), both on loopback ports with their own data, and against
# push_rw.py's recording server: the names and values pushed are the scrape endpoint's, the
# requests carry the remote_write 1.0 headers and body, and a series that disappears gets a
# stale marker that Prometheus honours.
. tests/integration/lib.sh # uses this script's $1, the sonde binary

# only_loopback PID PORT NAME: the server listens on 127.0.0.1:PORT and nothing else.
only_loopback()
{
    python3 "$IT_DIR/listeners.py" "$1" | sort -u >"$T/$3.listeners"
    [ "$(cat "$T/$3.listeners")" = "tcp 0100007F $2" ]
    result "$3 listens on 127.0.0.1:$2 only" || note "$(cat "$T/$3.listeners")"
}

vm_port=$(free_port 19560)
vm=http://127.0.0.1:$vm_port
spawn vm victoria-metrics -httpListenAddr "127.0.0.1:$vm_port" -storageDataPath "$T/vm" \
    -loggerLevel ERROR
vm_pid=$SPAWNED

prom_port=$(free_port $((vm_port + 1)))
prom=http://127.0.0.1:$prom_port
mkdir -p "$T/prom"
# No scrape job: everything this Prometheus stores came by remote write.
printf 'global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\n' >"$T/prom/prometheus.yml"
spawn prometheus prometheus --config.file="$T/prom/prometheus.yml" \
    --storage.tsdb.path="$T/prom/data" --web.listen-address="127.0.0.1:$prom_port" \
    --web.enable-remote-write-receiver --log.level=warn
prom_pid=$SPAWNED

wait_http "$vm/health" 20 "$vm_pid"
result "victoria-metrics answers /health on 127.0.0.1:$vm_port" || note_file "$T/vm.err"
wait_http "$prom/-/ready" 30 "$prom_pid"
result "prometheus is ready on 127.0.0.1:$prom_port" || note_file "$T/prometheus.err"
if ! alive "$vm_pid" || ! alive "$prom_pid"; then
    done_testing
fi
only_loopback "$vm_pid" "$vm_port" victoria-metrics
only_loopback "$prom_pid" "$prom_port" prometheus

py_checks push_rw.py "$SONDE" "$T" "$vm" "$prom"

stop "$vm_pid" 15
[ "$STOP_TIMED_OUT" -eq 0 ]
result "victoria-metrics stops on SIGTERM" || note_file "$T/vm.err"
stop "$prom_pid" 15
[ "$STOP_TIMED_OUT" -eq 0 ]
result "prometheus stops on SIGTERM" || note_file "$T/prometheus.err"
done_testing
