#!/bin/sh
# Runs each unit-test program and prints one closing line for the whole run.
passed=0 failed=0 status=0
for t in "$@"; do
    out=$(CK_FORK=yes "$t" 2>&1); rc=$?
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+%: Checks: ' | tail -1)
    c=$(printf '%s' "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
    f=$(printf '%s' "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    e=$(printf '%s' "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
    if [ -z "$line" ]; then failed=$((failed + 1)); status=1; echo "$t: no Check summary (rc $rc)"; continue; fi
    passed=$((passed + c - f - e)); failed=$((failed + f + e))
    [ "$rc" -ne 0 ] && status=1
done
echo "unit: $passed passed, $failed failed"
exit $status
