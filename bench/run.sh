#!/bin/sh
# run.sh - sonde's benchmark: CPU per collection cycle and peak RSS of sonde against
# node_exporter, collectd and a read-the-files floor, plus wrk scrape throughput, all on
# loopback, and the CPU the push outputs take per million samples sent to InfluxDB,
# VictoriaMetrics and a discard server. Usage: sh bench/run.sh [path/to/sonde]
# (`make bench` calls it). See README.md.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
sonde=${1:-$root/build/sonde}
outdir=${BENCH_OUT:-$root/build/bench}
limit=${BENCH_TIMEOUT:-420} # seconds; the whole run must stay under 7 minutes
# BENCH_PUSH_ONLY=1: only the push outputs' part (about 30 s).

missing=""
for tool in prometheus-node-exporter collectd wrk python3 cc timeout strace; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    echo "bench: missing:$missing (make deps-bench installs them)" >&2
    exit 1
fi
if [ ! -x "$sonde" ]; then
    echo "bench: $sonde is not an executable (run make first)" >&2
    exit 1
fi
case $sonde in /*) ;; *) sonde=$(pwd)/$sonde ;; esac

tmp=$(mktemp -d /tmp/sonde-bench.XXXXXX)
pypid=""
# Ends only what this script started (by pid), then removes the scratch directory.
cleanup() {
    if [ -n "$pypid" ] && kill -0 "$pypid" 2>/dev/null; then
        kill -TERM "$pypid" 2>/dev/null || true
        i=0
        while kill -0 "$pypid" 2>/dev/null && [ $i -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL "$pypid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The floor program, built like sonde (-O2).
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$tmp/readfiles" "$here/readfiles.c"
# The request floors: servers that only answer each scrape with a body built once, over
# epoll and over libmicrohttpd (sonde's library).
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$tmp/answer" "$here/answer.c"
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$tmp/answer_mhd" "$here/answer_mhd.c" \
    -lmicrohttpd

# The push outputs' driver, linked with sonde's libraries by the main Makefile's rules (its
# flags and libraries, whatever the plugins need). Without it the push part is skipped.
pushbench=""
if make -s -C "$root" -f Makefile -f bench/pushbench.mk build/bench/pushbench \
    >"$tmp/pushbench-build.log" 2>&1; then
    pushbench=$root/build/bench/pushbench
else
    echo "bench: bench/pushbench.c did not build; no push measurement:" >&2
    tail -n 5 "$tmp/pushbench-build.log" >&2
fi
for tool in influxd victoria-metrics; do
    command -v "$tool" >/dev/null 2>&1 ||
        echo "bench: $tool is missing: its push run is skipped (make deps-test installs it)" >&2
done
push_only=""
[ -n "${BENCH_PUSH_ONLY:-}" ] && push_only=--push-only

# perf: hardware counters are often unavailable in containers and VMs; say what works.
perf="not installed"
if command -v perf >/dev/null 2>&1; then
    if perf stat -x, -e instructions true 2>&1 | grep -q '^[0-9]'; then
        perf="instructions counter works (not used: CPU time is the measure)"
    else
        perf="instructions counter not supported here, so not used"
    fi
fi

config=""
[ -f "$root/packaging/sonde.yaml" ] && config=$root/packaging/sonde.yaml

echo "bench: sonde $("$sonde" --version 2>/dev/null | cut -d' ' -f2), node_exporter" \
    "$(prometheus-node-exporter --version 2>&1 | head -1 | cut -d' ' -f3)," \
    "collectd $(dpkg-query -W -f '${Version}' collectd-core 2>/dev/null || echo '?')," \
    "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)" >&2

# timeout(1) forwards TERM to python, whose handlers end its own children.
timeout -k 10 "$limit" python3 "$here/bench.py" --sonde "$sonde" ${config:+--config "$config"} \
    --readfiles "$tmp/readfiles" --answer "$tmp/answer" --answer-mhd "$tmp/answer_mhd" \
    --tmpdir "$tmp" --outdir "$outdir" --perf "$perf" \
    ${pushbench:+--pushbench "$pushbench"} $push_only &
pypid=$!
rc=0
wait "$pypid" || rc=$?
pypid=""
if [ "$rc" -ne 0 ]; then
    echo "bench: failed (exit $rc); logs of the last run:" >&2
    for f in "$tmp"/*.log; do
        [ -s "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
    done
fi
[ "$rc" -ne 0 ] || [ "${BENCH_CGROUP:-1}" = 0 ] || sh "$here/cgroup.sh" "$sonde" || rc=$?
exit "$rc"
