#!/bin/sh
# make valgrind: the daemon under memcheck for 1,000 collection rounds with
# the endpoint scraped meanwhile; any leak or memory error fails.
set -u
sonde=${1:-build/sonde}
port=${SONDE_VALGRIND_PORT:-19190}
log=$(mktemp)
valgrind --error-exitcode=3 --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --log-file="$log" \
    "$sonde" --interval 10ms --cycles 1000 --log.level error \
    --web.listen-address "127.0.0.1:$port" &
pid=$!
# Scrape now and then, in every format, while it runs.
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 600 ]; do
    curl -s -o /dev/null "http://127.0.0.1:$port/metrics" || true
    curl -s -o /dev/null -H 'Accept-Encoding: gzip' \
        -H 'Accept: application/openmetrics-text;version=1.0.0' "http://127.0.0.1:$port/metrics" || true
    sleep 0.2
    i=$((i + 1))
done
wait $pid
rc=$?
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|in use at exit" "$log"
rm -f "$log"
if [ $rc -eq 0 ]; then
    echo "valgrind: 1 passed, 0 failed"
else
    echo "valgrind: 0 passed, 1 failed (exit $rc)"
fi
exit $rc
