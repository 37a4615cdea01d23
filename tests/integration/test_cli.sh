#!/bin/sh
# test_cli.sh - sonde's command line: --version, --help, flag errors, --check-config on the
# shipped file and on broken files (exit 2, FILE:LINE:COLUMN at the right place), --once
# (line protocol of every host input), and both flag forms (--flag=value, --flag value).
. tests/integration/lib.sh # uses this script's $1, the sonde binary

# ---- --version, --help, bad flags ----
out=$(sonde_fg --version 2>&1)
rc=$?
want="sonde $(cat VERSION)"
[ "$rc" -eq 0 ] && [ "$out" = "$want" ]
result "--version exits 0 and prints \"$want\"" || note "got rc=$rc: $out"

sonde_fg --help >"$T/help" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -q '^usage: sonde' "$T/help" && grep -q -- '--check-config' "$T/help"
result "--help exits 0 and prints usage naming the flags" || note_file "$T/help"

sonde_fg --frobnicate >"$T/o" 2>"$T/e"
rc=$?
[ "$rc" -eq 2 ] && grep -q -- '--frobnicate' "$T/e"
result "unknown flag exits 2 and names the flag on stderr" || note_file "$T/e"

sonde_fg --check-config --config >"$T/o" 2>"$T/e"
rc=$?
[ "$rc" -eq 2 ]
result "a flag without its value exits 2" || note "rc=$rc"

# ---- --check-config ----
sonde_fg --check-config --config packaging/sonde.yaml >"$T/o" 2>"$T/e"
rc=$?
[ "$rc" -eq 0 ]
result "--check-config on packaging/sonde.yaml exits 0" || note_file "$T/e"

sonde_fg --check-config >"$T/o" 2>"$T/e"
rc=$?
[ "$rc" -eq 0 ]
result "--check-config on the embedded default exits 0" || note_file "$T/e"

# expect_config_error DESCRIPTION FILE LINE COLUMN WORD: --check-config must exit 2 and
# report FILE:LINE:COLUMN: with a message naming WORD (the offending key or value).
expect_config_error()
{
    sonde_fg --check-config --config="$2" >"$T/o" 2>"$T/e"
    _rc=$?
    if [ "$_rc" -eq 2 ] && grep -F -- "$2:$3:$4: " "$T/e" | grep -q -F -- "$5"; then
        ok "--check-config: $1 exits 2 with $(basename "$2"):$3:$4"
    else
        not_ok "--check-config: $1 exits 2 with $(basename "$2"):$3:$4"
        note "exit status $_rc, stderr:"
        note_file "$T/e"
    fi
}

mkdir -p "$T/bad"
# Line 3, column 3: the key "colour".
printf 'agent:\n  interval: 10s\n  colour: blue\n' >"$T/bad/unknown_key.yaml"
expect_config_error "unknown key" "$T/bad/unknown_key.yaml" 3 3 colour

# Line 5, column 13: the value [1, 2] of a boolean option.
printf 'agent:\n  interval: 10s\ninputs:\n  cpu:\n    percpu: [1, 2]\n' >"$T/bad/wrong_type.yaml"
expect_config_error "wrong type (list for a boolean)" "$T/bad/wrong_type.yaml" 5 13 percpu

# Line 4, column 20: "many" for an integer.
printf 'agent:\n  interval: 10s\nweb:\n  max_connections: many\n' >"$T/bad/wrong_int.yaml"
expect_config_error "wrong type (string for an integer)" "$T/bad/wrong_int.yaml" 4 20 many

# Line 3, column 13: the value "10 parsecs".
printf 'agent:\n  hostname: h\n  interval: 10 parsecs\n' >"$T/bad/bad_duration.yaml"
expect_config_error "bad duration" "$T/bad/bad_duration.yaml" 3 13 "10 parsecs"

# Line 5, column 15: an input's own interval.
printf 'inputs:\n  cpu: {}\n  mem:\n    tags: {a: b}\n    interval: soon\n' \
    >"$T/bad/bad_input_duration.yaml"
expect_config_error "bad duration in an input" "$T/bad/bad_input_duration.yaml" 5 15 soon

# Line 3, column 3: the plugin name.
printf 'inputs:\n  cpu: {}\n  frobnicator: {}\n' >"$T/bad/unknown_plugin.yaml"
expect_config_error "unknown plugin" "$T/bad/unknown_plugin.yaml" 3 3 frobnicator

# Line 2, column 3: an unknown output plugin.
printf 'outputs:\n  carrier_pigeon: {}\n' >"$T/bad/unknown_output.yaml"
expect_config_error "unknown output plugin" "$T/bad/unknown_output.yaml" 2 3 carrier_pigeon

# Line 3, column 14: the second ':' on "  hostname: a: b" (a mapping value where none is
# allowed).
printf 'agent:\n  interval: 10s\n  hostname: a: b\n' >"$T/bad/syntax.yaml"
expect_config_error "YAML syntax error" "$T/bad/syntax.yaml" 3 14 "mapping values"

# An error in conf.d/ beside the file is reported in that file: line 2, column 3.
mkdir -p "$T/confd/conf.d"
printf 'agent:\n  interval: 10s\n' >"$T/confd/sonde.yaml"
printf 'inputs:\n  nosuchinput: {}\n' >"$T/confd/conf.d/50-extra.yaml"
sonde_fg --check-config --config "$T/confd/sonde.yaml" >"$T/o" 2>"$T/e"
rc=$?
[ "$rc" -eq 2 ] && grep -q -F "$T/confd/conf.d/50-extra.yaml:2:3: " "$T/e"
result "--check-config: an error in conf.d/50-extra.yaml exits 2 and names that file:2:3" ||
    note_file "$T/e"

# ---- --once ----
sonde_fg --once >"$T/once.out" 2>"$T/once.err"
rc=$?
[ "$rc" -eq 0 ]
result "--once exits 0" || note_file "$T/once.err"
py_checks check_once.py "$T/once.out" "$(uname -n)" \
    cpu mem swap system kernel net diskio disk

sonde_fg --once --path.procfs /nonexistent >"$T/o" 2>"$T/e"
rc=$?
[ "$rc" -eq 1 ] && [ -s "$T/e" ]
result "--once --path.procfs /nonexistent exits 1 with errors on stderr" || note "exit status $rc"
note_file "$T/e" 4

sonde_fg --once --path.procfs=/nonexistent >"$T/o" 2>"$T/e"
rc=$?
[ "$rc" -eq 1 ] && [ -s "$T/e" ]
result "--once --path.procfs=/nonexistent (= form) exits 1 with errors on stderr" ||
    note "exit status $rc"

# ---- both flag forms ----
for form in "--interval=1s" "--interval 1s" "--log.level=debug" "--log.level debug"; do
    # shellcheck disable=SC2086 # the space form must split into two arguments
    sonde_fg --check-config $form >"$T/o" 2>"$T/e"
    rc=$?
    [ "$rc" -eq 0 ]
    result "--check-config $form exits 0" || note_file "$T/e"
done
for form in "--interval=xyzzy" "--interval xyzzy"; do
    # shellcheck disable=SC2086
    sonde_fg --check-config $form >"$T/o" 2>"$T/e"
    rc=$?
    [ "$rc" -eq 2 ] && grep -q xyzzy "$T/e"
    result "$form (a bad value) exits 2 and quotes the value" || note_file "$T/e"
done

# The flags must win over the file: with the file's 10s interval an input is read once
# in 5 s; with --interval 200ms (either form) it is read at least 3 times. The endpoint is
# off in the file, so answering at all shows --web.listen-address took effect too.
printf 'agent:\n  interval: 10s\nweb:\n  listen_address: ""\ninputs:\n  cpu: {}\n' \
    >"$T/slow.yaml"
reads_at_least_3()
{
    _v=$(metric_value "http://127.0.0.1:$1/metrics" 'sonde_input_reads_total{input="cpu"}')
    [ -n "$_v" ] && [ "${_v%%.*}" -ge 3 ]
}
port=$(free_port 19110)
for form in eq space; do
    if [ $form = eq ]; then
        spawn "flags_$form" "$SONDE" --config="$T/slow.yaml" --interval=200ms \
            --web.listen-address="127.0.0.1:$port"
    else
        spawn "flags_$form" "$SONDE" --config "$T/slow.yaml" --interval 200ms \
            --web.listen-address "127.0.0.1:$port"
    fi
    pid=$SPAWNED
    if wait_http "http://127.0.0.1:$port/metrics" 5 "$pid" && wait_for 5 reads_at_least_3 "$port"
    then
        ok "--interval and --web.listen-address ($form form) override the file"
    else
        not_ok "--interval and --web.listen-address ($form form) override the file"
        note "reads: $(metric_value "http://127.0.0.1:$port/metrics" \
            'sonde_input_reads_total{input="cpu"}')"
        note_file "$T/flags_$form.err"
    fi
    stop "$pid" 5
    port=$(free_port $((port + 1)))
done

# ---- --collector.NAME / --no-collector.NAME (node_exporter's flags) ----
sonde_fg --collector.disable-defaults --collector.loadavg --once >"$T/coll.out" 2>"$T/coll.err"
[ $? -eq 0 ] && [ -s "$T/coll.out" ] && ! grep -qv '^system,' "$T/coll.out"
result "--collector.disable-defaults --collector.loadavg runs the system input only" ||
    note "$(cut -d' ' -f1 "$T/coll.out" | cut -d, -f1 | sort -u | tr '\n' ' ')"
sonde_fg --no-collector.cpu --no-collector.filesystem --once >"$T/nocoll.out" 2>"$T/nocoll.err"
[ $? -eq 0 ] && ! grep -q '^cpu,' "$T/nocoll.out" && ! grep -q '^disk,' "$T/nocoll.out" &&
    grep -q '^mem,' "$T/nocoll.out"
result "--no-collector.cpu --no-collector.filesystem leave cpu and disk out, the rest in"
sonde_fg --collector.nosuch --check-config >/dev/null 2>"$T/nosuch.err"
[ $? -eq 2 ] && grep -q 'nosuch' "$T/nosuch.err"
result "--collector.nosuch exits 2 and names it"

# ---- libcurl and snappy are loaded only when something needs them ----
readelf -d "$SONDE" >"$T/needed" 2>&1
! grep -E 'NEEDED.*(libcurl|libsnappy)' "$T/needed" && grep -q 'NEEDED.*libc\.so' "$T/needed"
result "the sonde executable does not link libcurl or snappy (they are loaded with dlopen)" ||
    note_file "$T/needed"

# has_mapped PID LIB: true once the process has LIB mapped (polled up to 5 s).
has_mapped()
{
    _n=50
    while [ "$_n" -gt 0 ]; do
        grep -q "/$2" "/proc/$1/maps" 2>/dev/null && return 0
        sleep 0.1
        _n=$((_n - 1))
    done
    return 1
}
lport=$(free_port 19720)
printf 'agent: {interval: 200ms}\nweb: {listen_address: "127.0.0.1:%s"}\ninputs: {system: {}}\n' \
    "$lport" >"$T/nopush.yaml"
spawn nopush "$SONDE" --config "$T/nopush.yaml"
nopush=$SPAWNED
sleep 1
alive "$nopush" && ! grep -qE '/lib(curl|snappy)' "/proc/$nopush/maps"
result "without a push output, neither libcurl nor snappy is mapped" || note_file "$T/nopush.err"
stop "$nopush" 5
lport=$(free_port 19730)
rport=$(free_port 19740)
printf 'agent: {interval: 200ms}\nweb: {listen_address: "127.0.0.1:%s"}\ninputs: {system: {}}
outputs: {remote_write: {url: "http://127.0.0.1:%s/api/v1/write"}}\n' "$lport" "$rport" \
    >"$T/push.yaml"
spawn push "$SONDE" --config "$T/push.yaml"
push=$SPAWNED
has_mapped "$push" libcurl && has_mapped "$push" libsnappy
result "with a remote_write output, libcurl and snappy are loaded" || note_file "$T/push.err"
stop "$push" 5

done_testing
