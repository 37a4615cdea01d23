# lib.sh - helpers shared by the integration tests (sourced, POSIX sh): check reporting
# ("ok - ..." / "not ok - ..."), a temporary directory, background processes that are
# always cleaned up on exit, free loopback ports, and bounded polling (no unbounded waits).
#
# A test script does:  . tests/integration/lib.sh   ...checks...   done_testing
# (sourced, lib.sh reads the script's own $1: the path of the sonde binary).

SONDE=${1:?usage: test_X.sh path/to/sonde}
case $SONDE in
/*) ;;
*) SONDE=$(pwd)/$SONDE ;;
esac
if [ ! -x "$SONDE" ]; then
    echo "not ok - sonde binary $SONDE is not executable"
    exit 1
fi
ROOT=$(pwd)
IT_DIR=$ROOT/tests/integration
# The helpers import lineproto.py: no __pycache__ in the source tree.
export PYTHONDONTWRITEBYTECODE=1
PASSED=0
FAILED=0
PIDS=""
T=$(mktemp -d "${TMPDIR:-/tmp}/sonde-it.XXXXXX") || exit 1

ok()
{
    PASSED=$((PASSED + 1))
    echo "ok - $*"
}

not_ok()
{
    FAILED=$((FAILED + 1))
    echo "not ok - $*"
}

# COND; result DESCRIPTION: one check from the exit status of the command (or && list) just
# before it; returns that status so "|| note ..." can add diagnostics on failure.
result()
{
    if [ $? -eq 0 ]; then
        ok "$1"
        return 0
    fi
    not_ok "$1"
    return 1
}

# Diagnostics: every line prefixed with "# " so it never reads as a check.
note()
{
    printf '%s\n' "$*" | sed 's/^/# /'
}

# note_file FILE [MAXLINES]: the end of a file (a log) as diagnostics.
note_file()
{
    [ -s "$1" ] || return 0
    echo "# --- $1 (last ${2:-20} lines)"
    tail -n "${2:-20}" "$1" | sed 's/^/#   /'
}

# alive PID: true while the process runs (a zombie, exited but not yet reaped by
# `wait`, counts as gone; kill -0 would still succeed on it).
alive()
{
    _st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ]
}

# wait_gone PID SECONDS: polls until the process has exited; false on timeout.
wait_gone()
{
    _n=$(($2 * 10))
    while [ "$_n" -gt 0 ]; do
        alive "$1" || return 0
        sleep 0.1
        _n=$((_n - 1))
    done
    ! alive "$1"
}

# sonde_fg ARGS...: runs sonde in the foreground, killed after 20 s (status 124), so a
# sonde that ignored --check-config or --once and became a daemon cannot hang the test.
sonde_fg()
{
    timeout -k 2 20 "$SONDE" "$@"
}

# spawn NAME COMMAND...: starts COMMAND in the background with stdout in $T/NAME.out and
# stderr in $T/NAME.err; sets SPAWNED to its pid and registers it for cleanup.
spawn()
{
    _name=$1
    shift
    "$@" >"$T/$_name.out" 2>"$T/$_name.err" &
    SPAWNED=$!
    PIDS="$PIDS $SPAWNED"
}

# stop PID SECONDS: SIGTERM, bounded wait, then SIGKILL. Sets STOP_RC to the exit status
# (128+signal when killed) and STOP_TIMED_OUT=1 if SIGKILL was needed.
# shellcheck disable=SC2034 # STOP_RC and STOP_TIMED_OUT are read by the test scripts
stop()
{
    STOP_TIMED_OUT=0
    kill -TERM "$1" 2>/dev/null
    if ! wait_gone "$1" "${2:-5}"; then
        STOP_TIMED_OUT=1
        kill -KILL "$1" 2>/dev/null
        wait_gone "$1" 5
    fi
    wait "$1" 2>/dev/null
    STOP_RC=$?
}

cleanup()
{
    _rc=$?
    for _p in $PIDS; do
        alive "$_p" && stop "$_p" 5
    done
    if [ -n "${KEEP_TMP:-}" ]; then
        echo "# temporary files kept in $T"
    else
        rm -rf "$T"
    fi
    return $_rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port BASE: prints the first port >= BASE that 127.0.0.1 can bind now.
free_port()
{
    python3 - "$1" <<'EOF'
import socket, sys
port = int(sys.argv[1])
while port < 65000:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        print(port)
        break
    except OSError:
        port += 1
    finally:
        s.close()
EOF
}

# http_status URL [CURL ARGS...]: prints the status code (000 when nothing answered).
http_status()
{
    _url=$1
    shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$_url"
}

# wait_http URL SECONDS [PID]: polls until URL answers 200; false on timeout or when the
# optional PID exits first (no point waiting for a server that died).
wait_http()
{
    _n=$(($2 * 10))
    while [ "$_n" -gt 0 ]; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1")" = 200 ] && return 0
        if [ -n "${3:-}" ] && ! alive "$3"; then return 1; fi
        sleep 0.1
        _n=$((_n - 1))
    done
    return 1
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds.
wait_for()
{
    _n=$(($1 * 5))
    shift
    while [ "$_n" -gt 0 ]; do
        "$@" && return 0
        sleep 0.2
        _n=$((_n - 1))
    done
    return 1
}

# metric_value URL NAME_WITH_LABELS: prints the value of the first sample whose name and
# labels equal the argument exactly, e.g. 'sonde_input_reads_total{input="cpu"}'.
metric_value()
{
    curl -s --max-time 5 "$1" | awk -v want="$2" '
        $1 == want { print $2; found = 1; exit }
        END { if (!found) exit 1 }'
}

# py_checks SCRIPT ARGS...: runs a python3 helper that prints its own "ok - " / "not ok - "
# lines, and adds them to this script's counts. A helper that dies without reporting a
# failed check counts as one failure.
py_checks()
{
    _script=$1
    shift
    python3 "$IT_DIR/$_script" "$@" >"$T/py.out" 2>&1
    _rc=$?
    cat "$T/py.out"
    _p=$(grep -c '^ok - ' "$T/py.out")
    _f=$(grep -c '^not ok - ' "$T/py.out")
    PASSED=$((PASSED + _p))
    FAILED=$((FAILED + _f))
    if [ "$_rc" -ne 0 ] && [ "$_f" -eq 0 ]; then
        not_ok "$_script exited with status $_rc"
    fi
    return "$_rc"
}

done_testing()
{
    echo "# $PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
    exit $?
}
