#!/bin/sh
# test_cgroup.sh - the cgroup input on real cgroups of this machine: creates docker-style
# cgroups in the hierarchies it has (v1 cpu, cpuacct, memory, blkio, pids and the unified
# tree of a hybrid host; a slice of the unified tree on a v2 host), puts processes in them
# that burn CPU, hold memory and send datagrams, and checks what sonde reports against what
# they did (cgroup_check.py): CPU rates, CFS throttling under a quota, memory, limits, PIDs,
# network, pressure, names from a Docker Engine API stand-in (docker_api.py: dockerd cannot
# run here), a container that goes away, and a hung API socket. Needs root; everything it
# creates is removed on exit.
. tests/integration/lib.sh # uses this script's $1, the sonde binary

if [ "$(id -u)" != 0 ]; then
    ok "cgroup: not run (creating cgroups needs root)"
    done_testing
fi
note "no dockerd or podman here: names come from docker_api.py, which answers as the Engine API"

CG=/sys/fs/cgroup
MIB=64
LIMIT=536870912
idA=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
idB=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
CREATED="" # directories made here, innermost first
BURNERS=""

mk()
{
    [ -d "$1" ] && return 0
    mkdir "$1" && CREATED="$1 $CREATED"
}

cg_cleanup()
{
    for _p in $BURNERS; do
        alive "$_p" && stop "$_p" 5
    done
    for _d in $CREATED; do
        _n=0
        while [ -d "$_d" ] && ! rmdir "$_d" 2>/dev/null && [ $_n -lt 25 ]; do
            sleep 0.2 # a killed process may take a moment to leave its cgroup
            _n=$((_n + 1))
        done
    done
}

cg_exit()
{
    _r=$?
    cg_cleanup
    (exit $_r)
    cleanup
}
trap cg_exit EXIT

# ---- the cgroups: A (cgroupfs driver), B (systemd driver, CPU quota), an LXC one ----
if [ -f "$CG/cgroup.controllers" ]; then
    layout="v2"
    parent=$CG/sonde-it.slice
    mk "$parent"
    echo "+cpu +memory +io +pids" >"$parent/cgroup.subtree_control"
    relA=/sonde-it.slice/docker-$idA.scope
    relB=/sonde-it.slice/docker-$idB.scope
    mk "$CG$relA" && mk "$CG$relB" && mk "$CG/lxc.payload.sonde-it"
    DIRS_A=$CG$relA
    DIRS_B=$CG$relB
    echo $LIMIT >"$CG$relA/memory.max"
    echo 100 >"$CG$relA/pids.max"
    echo "20000 100000" >"$CG$relB/cpu.max"
else
    layout="v1"
    ctrls=""
    for c in cpu cpuacct memory blkio pids unified; do
        [ -d "$CG/$c" ] && ctrls="$ctrls $c"
    done
    [ -d "$CG/cpu,cpuacct" ] && ctrls="$ctrls cpu,cpuacct"
    [ -d "$CG/unified" ] && layout="hybrid"
    relA=/docker/$idA
    relB=/system.slice/docker-$idB.scope
    DIRS_A=""
    DIRS_B=""
    for c in $ctrls; do
        mk "$CG/$c/docker" && mk "$CG/$c$relA" && mk "$CG/$c/system.slice" && mk "$CG/$c$relB"
        DIRS_A="$DIRS_A $CG/$c$relA"
        DIRS_B="$DIRS_B $CG/$c$relB"
    done
    for c in memory cpuacct; do
        mk "$CG/$c/lxc.payload.sonde-it"
    done
    echo $LIMIT >"$CG/memory$relA/memory.limit_in_bytes"
    echo 100 >"$CG/pids$relA/pids.max"
    quota_dir=$CG/cpu$relB
    [ -d "$quota_dir" ] || quota_dir=$CG/cpu,cpuacct$relB
    echo 20000 >"$quota_dir/cpu.cfs_quota_us"
fi
[ -d "$CG$relA" ] || [ -d "$CG/memory$relA" ]
result "docker-style cgroups created ($layout layout): $relA, $relB, /lxc.payload.sonde-it" ||
    done_testing

# ---- the processes ----
# A gets a network namespace of its own with a veth pair (eth0 -> eth1) when this machine
# can make one, and sends 200 datagrams out of eth0.
NET=0
if command -v ip >/dev/null 2>&1 &&
    unshare -n sh -c 'ip link add eth0 type veth peer name eth1' 2>/dev/null; then
    NET=1
fi
export DIRS_A DIRS_B IT_DIR T MIB
if [ $NET = 1 ]; then
    spawn burnA unshare -n sh -c '
        for d in $DIRS_A; do echo $$ >"$d/cgroup.procs"; done
        ip link add eth0 type veth peer name eth1 && ip addr add 10.9.9.1/24 dev eth0 &&
        ip link set eth0 up && ip link set eth1 up &&
        mac=$(ip -o link show eth1 | sed "s/.*link\/ether \([^ ]*\).*/\1/") &&
        ip neigh add 10.9.9.2 lladdr "$mac" dev eth0 || exit 3
        exec python3 "$IT_DIR/cgroup_burn.py" "$MIB" "$T/readyA" 200'
else
    note "no veth here (ip link add ... type veth failed): A runs in the host's network"
    spawn burnA sh -c 'for d in $DIRS_A; do echo $$ >"$d/cgroup.procs"; done
        exec python3 "$IT_DIR/cgroup_burn.py" "$MIB" "$T/readyA" 0'
fi
pidA=$SPAWNED
spawn burnB sh -c 'for d in $DIRS_B; do echo $$ >"$d/cgroup.procs"; done
    exec python3 "$IT_DIR/cgroup_burn.py" 8 "$T/readyB" 0'
pidB=$SPAWNED
BURNERS="$pidA $pidB"
wait_for 20 test -f "$T/readyA" -a -f "$T/readyB"
result "the burners run in their cgroups (A holds $MIB MiB)" || {
    note_file "$T/burnA.err"
    note_file "$T/burnB.err"
}

# ---- the Docker Engine API stand-in, and sonde ----
spawn api python3 "$IT_DIR/docker_api.py" "$T/docker.sock" ok "$T/api.log" "$idA" web nginx:1.25
wait_for 10 test -S "$T/docker.sock"
result "Docker Engine API stand-in listens on $T/docker.sock" || note_file "$T/api.err"

port=$(free_port 19170)
url="http://127.0.0.1:$port/metrics"
cat >"$T/sonde.yaml" <<EOF
agent: {interval: 1s}
web: {listen_address: "127.0.0.1:$port"}
inputs:
  cgroup: {docker_socket: "$T/docker.sock", podman_socket: "", pressure: true, processes: true}
outputs: {}
EOF
sed -e 's/listen_address: "[^"]*"/listen_address: ""/' "$T/sonde.yaml" >"$T/once.yaml"
spawn sonde "$SONDE" --config "$T/sonde.yaml"
sonde_pid=$SPAWNED
wait_http "$url" 10 "$sonde_pid"
result "sonde serves $url" || note_file "$T/sonde.err"
sleep 2.5 # two reads: the second has CPU deltas everywhere

sonde_fg --config "$T/once.yaml" --once >"$T/once.lp" 2>"$T/once.err"
result "sonde --once with the cgroup input exits 0" || note_file "$T/once.err"

py_checks cgroup_check.py "$url" "$relA" "$relB" /lxc.payload.sonde-it $MIB $LIMIT $NET \
    "$T/once.lp" 4

[ "$(metric_value "$url" 'sonde_input_samples_skipped_total{input="cgroup"}')" = 0 ]
result "no value was skipped as malformed"
[ "$(metric_value "$url" 'sonde_input_read_errors_total{input="cgroup"}')" = 0 ]
result "no read failed"

# ---- A goes away: its series go with it, B stays ----
stop "$pidA" 5
for d in $DIRS_A; do
    rmdir "$d" 2>/dev/null || { sleep 0.5 && rmdir "$d"; }
done
sleep 2.5
curl -s --max-time 5 "$url" >"$T/after.txt"
! grep -q "id=\"$relA\"" "$T/after.txt" && grep -q "id=\"$relB\"" "$T/after.txt"
result "after A's cgroup is removed, A is no longer exported and B still is"
stop "$sonde_pid" 5
[ "$STOP_RC" -eq 0 ]
result "sonde stops cleanly" || note_file "$T/sonde.err"

# ---- a hung API: one read waits its 1 s, and the socket is not asked again for 30 s ----
spawn hung python3 "$IT_DIR/docker_api.py" "$T/hung.sock" hang "$T/hung.log"
wait_for 10 test -S "$T/hung.sock"
port2=$(free_port $((port + 1)))
cat >"$T/hung.yaml" <<EOF
agent: {interval: 500ms}
web: {listen_address: "127.0.0.1:$port2"}
inputs:
  cgroup: {docker_socket: "$T/hung.sock", podman_socket: ""}
outputs: {}
EOF
spawn sonde2 "$SONDE" --config "$T/hung.yaml"
wait_http "http://127.0.0.1:$port2/metrics" 10 "$SPAWNED"
sleep 4.5
reads=$(metric_value "http://127.0.0.1:$port2/metrics" 'sonde_input_reads_total{input="cgroup"}')
last=$(metric_value "http://127.0.0.1:$port2/metrics" \
    'sonde_input_read_duration_seconds{input="cgroup"}')
asked=$(wc -l <"$T/hung.log")
[ "$asked" -eq 1 ]
result "a hung Docker socket is asked once in 5 s (name_refresh 30s): $asked connection(s)"
awk -v r="$reads" -v l="$last" 'BEGIN { exit !(r >= 5 && l < 0.5) }'
result "reads go on at their interval meanwhile: $reads reads, the last took ${last}s"
grep -q "cgroup: docker API at .*hung.sock" "$T/sonde2.err"
result "the unanswered API is logged" || note_file "$T/sonde2.err"

done_testing
