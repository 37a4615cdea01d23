#!/bin/sh
# make check: lint, unit tests, integration tests, then one closing line
# with the totals of all of them.
set -u
cd "$(dirname "$0")/../.."
make=${MAKE:-make}
log=$(mktemp)
status=0
for target in lint unit asan fuzz valgrind integration; do
    echo "== make $target"
    if ! $make --no-print-directory "$target" >"$log.out" 2>&1; then
        status=1
        echo "== make $target FAILED"
    fi
    cat "$log.out"
    cat "$log.out" >>"$log"
    [ "$target" = lint ] && grep -q "^lint: ok" "$log.out" && echo "lint: 1 passed, 0 failed" >>"$log"
    [ "$target" = lint ] && ! grep -q "^lint: ok" "$log.out" && echo "lint: 0 passed, 1 failed" >>"$log"
done
passed=0 failed=0
for line in $(grep -E '^(lint|unit|fuzz|valgrind|integration): [0-9]+ passed, [0-9]+ failed' "$log" |
    sed -E 's/^[a-z]+: ([0-9]+) passed, ([0-9]+) failed.*/\1:\2/'); do
    passed=$((passed + ${line%%:*}))
    failed=$((failed + ${line##*:}))
done
rm -f "$log" "$log.out"
[ $status -ne 0 ] && [ $failed -eq 0 ] && failed=1
echo "check: $passed passed, $failed failed"
exit $status
