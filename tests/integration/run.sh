#!/bin/sh
# run.sh - runs every tests/integration/test_*.sh against one sonde binary (cwd: the
# repository root) and ends with one line "integration: N passed, M failed" counting the
# checks (ok / not ok lines) of all scripts. Exits non-zero if any check or script failed.
sonde=${1:?usage: sh tests/integration/run.sh path/to/sonde}
case $sonde in
/*) ;;
*) sonde=$(pwd)/$sonde ;;
esac
cd "$(dirname "$0")/../.." || exit 1

# A script that hangs is killed: every wait inside is bounded, this is the backstop.
limit=${SONDE_IT_TIMEOUT:-300}
passed=0
failed=0
status=0
work=$(mktemp -d "${TMPDIR:-/tmp}/sonde-run.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
for t in tests/integration/test_*.sh; do
    echo "# $t"
    { timeout -k 10 "$limit" sh "$t" "$sonde"; echo $? >"$work/rc"; } 2>&1 | tee "$work/out"
    rc=$(cat "$work/rc")
    p=$(grep -c '^ok - ' "$work/out")
    f=$(grep -c '^not ok - ' "$work/out")
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        # Died without reporting a failed check (crash, timeout: 124): count it as one.
        echo "not ok - $t exited with status $rc"
        failed=$((failed + 1))
    elif [ "$rc" -eq 0 ] && [ "$p" -eq 0 ]; then
        echo "not ok - $t made no checks"
        failed=$((failed + 1))
    fi
    [ "$rc" -ne 0 ] && status=1
done
[ "$failed" -ne 0 ] && status=1
echo "integration: $passed passed, $failed failed"
exit $status
