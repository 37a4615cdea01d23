#!/bin/sh
# make fuzz: every harness under libFuzzer with ASan and UBSan for
# FUZZ_SECONDS each (default 10), starting from the fixtures as corpus.
# A crash, leak or sanitizer report fails; reproducers stay in build-fuzz/.
set -u
cd "$(dirname "$0")/../.."
root=$(pwd) # the harnesses run in $dir: fixture trees are given to them as absolute paths
# The harnesses' scratch trees go under a directory of this run only (removed at the end), so
# two runs at once never remove each other's.
scratch=$(mktemp -d /tmp/sonde-fuzz-run.XXXXXX) || exit 1
export TMPDIR="$scratch"
dir=build-fuzz
seconds=${FUZZ_SECONDS:-10}
cc=clang
cflags="-std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Icollector -fsanitize=fuzzer,address,undefined"
libs="-Wl,--start-group $dir/libsonde_plugins.a $dir/libsonde_core.a -Wl,--end-group \
    $(pkg-config --libs libmicrohttpd yaml-0.1 zlib libcrypt gnutls libprotobuf-c jansson) -lsensors -lpthread -lm"
# harness name : plugin : file under the fixture tree : fixture tree
targets="
config:::tests/fixtures
webconfig:::tests/fixtures
http:::tests/fixtures
spool:::tests/fixtures
netlink:::tests/fixtures
cpu_stat:cpu:proc/stat:tests/fixtures/cpu
kernel_stat:kernel:proc/stat:tests/fixtures/kernel
system_loadavg:system:proc/loadavg:tests/fixtures/system
system_uptime:system:proc/uptime:tests/fixtures/system
mem_meminfo:mem:proc/meminfo:tests/fixtures/mem
swap_vmstat:swap:proc/vmstat:tests/fixtures/swap
net_dev:net:proc/net/dev:tests/fixtures/net
diskio_diskstats:diskio:proc/diskstats:tests/fixtures/diskio
disk_mountinfo:disk:proc/1/mountinfo:tests/fixtures/disk
vmstat_vmstat:vmstat:proc/vmstat:tests/fixtures/vmstat
netstat_netstat:netstat:proc/net/netstat:tests/fixtures/netstat
netstat_snmp:netstat:proc/net/snmp:tests/fixtures/netstat
netstat_snmp6:netstat:proc/net/snmp6:tests/fixtures/netstat
sockstat_sockstat:sockstat:proc/net/sockstat:tests/fixtures/sockstat
softnet_softnet_stat:softnet:proc/net/softnet_stat:tests/fixtures/softnet
udp_queues_udp:udp_queues:proc/net/udp:tests/fixtures/udp_queues
arp_arp:arp:proc/net/arp:tests/fixtures/arp
conntrack_stat:conntrack:proc/net/stat/nf_conntrack:tests/fixtures/conntrack
conntrack_count:conntrack:proc/sys/net/netfilter/nf_conntrack_count:tests/fixtures/conntrack
netclass_flags:netclass:sys/class/net/eth0/flags:tests/fixtures/netclass
netclass_address:netclass:sys/class/net/eth0/address:tests/fixtures/netclass
hwmon_temp_input:hwmon:sys/class/hwmon/hwmon1/temp1_input:tests/fixtures/hwmon
hwmon_temp_label:hwmon:sys/class/hwmon/hwmon1/temp1_label:tests/fixtures/hwmon
hwmon_name:hwmon:sys/class/hwmon/hwmon3/name:tests/fixtures/hwmon
thermal_zone_temp:thermal_zone:sys/class/thermal/thermal_zone0/temp:tests/fixtures/thermal_zone
thermal_zone_cur_state:thermal_zone:sys/class/thermal/cooling_device1/cur_state:tests/fixtures/thermal_zone
powersupplyclass_capacity:powersupplyclass:sys/class/power_supply/BAT0/capacity:tests/fixtures/powersupplyclass
powersupplyclass_model:powersupplyclass:sys/class/power_supply/BAT0/model_name:tests/fixtures/powersupplyclass
cpufreq_scaling_cur:cpufreq:sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq:tests/fixtures/cpufreq
os_release:os:etc/os-release:tests/fixtures/os
time_clocksource:time:sys/devices/system/clocksource/clocksource0/available_clocksource:tests/fixtures/time
filefd_file_nr:filefd:proc/sys/fs/file-nr:tests/fixtures/filefd
entropy_avail:entropy:proc/sys/kernel/random/entropy_avail:tests/fixtures/entropy
pressure_io:pressure:proc/pressure/io:tests/fixtures/pressure
schedstat_schedstat:schedstat:proc/schedstat:tests/fixtures/schedstat
processes_stat:processes:proc/1/stat:tests/fixtures/processes
interrupts_interrupts:interrupts:proc/interrupts:tests/fixtures/interrupts
interrupts_softirqs:interrupts:proc/softirqs:tests/fixtures/interrupts
textfile:::tests/fixtures
cgroup_mountinfo:cgroup:proc/1/mountinfo:tests/fixtures/cgroup/hybrid
cgroup_v1_memory_stat:cgroup:sys/fs/cgroup/memory/docker/8081bd04d15a8db1cec572a18f6b76f3c122416df5a1fb5dec7533e62e3c0a29/memory.stat:tests/fixtures/cgroup/hybrid
cgroup_v1_cpuacct_stat:cgroup:sys/fs/cgroup/cpuacct/docker/8081bd04d15a8db1cec572a18f6b76f3c122416df5a1fb5dec7533e62e3c0a29/cpuacct.stat:tests/fixtures/cgroup/hybrid
cgroup_v1_cpu_stat:cgroup:sys/fs/cgroup/cpu/docker/8081bd04d15a8db1cec572a18f6b76f3c122416df5a1fb5dec7533e62e3c0a29/cpu.stat:tests/fixtures/cgroup/hybrid
cgroup_v1_oom_control:cgroup:sys/fs/cgroup/memory/docker/8081bd04d15a8db1cec572a18f6b76f3c122416df5a1fb5dec7533e62e3c0a29/memory.oom_control:tests/fixtures/cgroup/hybrid
cgroup_v1_blkio:cgroup:sys/fs/cgroup/blkio/docker/8081bd04d15a8db1cec572a18f6b76f3c122416df5a1fb5dec7533e62e3c0a29/blkio.throttle.io_service_bytes_recursive:tests/fixtures/cgroup/hybrid
cgroup_procs:cgroup:sys/fs/cgroup/memory/docker/8081bd04d15a8db1cec572a18f6b76f3c122416df5a1fb5dec7533e62e3c0a29/cgroup.procs:tests/fixtures/cgroup/hybrid
cgroup_net_dev:cgroup:proc/31907/net/dev:tests/fixtures/cgroup/hybrid
cgroup_v2_cpu_stat:cgroup:sys/fs/cgroup/system.slice/docker-cccccccc0123456789abcdef0123456789abcdef0123456789abcdef01234567.scope/cpu.stat:tests/fixtures/cgroup/v2
cgroup_v2_memory_stat:cgroup:sys/fs/cgroup/system.slice/docker-cccccccc0123456789abcdef0123456789abcdef0123456789abcdef01234567.scope/memory.stat:tests/fixtures/cgroup/v2
cgroup_v2_io_stat:cgroup:sys/fs/cgroup/system.slice/docker-cccccccc0123456789abcdef0123456789abcdef0123456789abcdef01234567.scope/io.stat:tests/fixtures/cgroup/v2
cgroup_v2_memory_events:cgroup:sys/fs/cgroup/system.slice/docker-cccccccc0123456789abcdef0123456789abcdef0123456789abcdef01234567.scope/memory.events:tests/fixtures/cgroup/v2
cgroup_v2_cpu_max:cgroup:sys/fs/cgroup/system.slice/docker-cccccccc0123456789abcdef0123456789abcdef0123456789abcdef01234567.scope/cpu.max:tests/fixtures/cgroup/v2
"
passed=0 failed=0
for t in $targets; do
    name=${t%%:*}; rest=${t#*:}
    plugin=${rest%%:*}; rest=${rest#*:}
    file=${rest%%:*}; fixtures=${rest#*:}
    bin=$dir/fuzz_$name
    if [ -z "$plugin" ]; then
        $cc $cflags -o "$bin" "tests/fuzz/fuzz_$name.c" $libs || { failed=$((failed + 1)); continue; }
    else
        $cc $cflags -DFUZZ_PLUGIN="$plugin" -DFUZZ_FILE="\"$file\"" \
            -DFUZZ_FIXTURES="\"$root/$fixtures\"" -o "$bin" tests/fuzz/fuzz_procfile.c $libs ||
            { failed=$((failed + 1)); continue; }
    fi
    corpus=$dir/corpus_$name
    mkdir -p "$corpus"
    if [ -n "$plugin" ]; then
        find "tests/fixtures/$plugin" -type f -size -64k -exec cp {} "$corpus/" \; 2>/dev/null
    elif [ "$name" = config ]; then
        cp packaging/sonde.yaml "$corpus/"
    elif [ "$name" = textfile ]; then
        find tests/fixtures/textfile -name '*.prom' -type f -size -64k -exec cp {} "$corpus/" \;
    elif [ "$name" = netlink ]; then
        # one answer of each kind: counters (RTM_NEWSTATS), a link (RTM_NEWLINK), the end
        python3 -c '
import struct, sys
def msg(kind, body, seq=1):
    return struct.pack("=IHHII", 16 + len(body), kind, 2, seq, 0) + body
stats = struct.pack("=BBHII", 0, 0, 0, 2, 1) + struct.pack("=HH", 4 + 8 * 24, 1) + bytes(range(192))
link = struct.pack("=BBHiII", 0, 0, 1, 2, 0x1043, 0) + struct.pack("=HH", 9, 3) + b"eth0" + bytes(4)
sys.stdout.buffer.write(msg(92, stats) + msg(16, link) + msg(16, link, 0) + msg(3, bytes(4)))
' >"$corpus/dump"
    elif [ "$name" = webconfig ]; then
        printf '%s\n' 'tls_server_config: {cert_file: a.pem, key_file: a.key, client_auth_type:' \
            '  RequireAndVerifyClientCert, client_ca_file: ca.pem, min_version: TLS12}' \
            'http_server_config: {headers: {X-Frame-Options: deny}, http2: false}' \
            "basic_auth_users: {alice: '\$2b\$04\$abcdefghijklmnopqrstuu5JrEQOyxq7TU0kYpKTm8AQBRx8yQE5K'}" \
            >"$corpus/web.yml"
    fi
    if (cd "$dir" && "./fuzz_$name" -max_total_time="$seconds" -max_len=16384 \
        -print_final_stats=0 "corpus_$name" >"fuzz_$name.log" 2>&1); then
        echo "ok - fuzz $name ($seconds s)"
        passed=$((passed + 1))
    else
        echo "not ok - fuzz $name: see $dir/fuzz_$name.log"
        tail -30 "$dir/fuzz_$name.log"
        failed=$((failed + 1))
    fi
done
rm -rf "$scratch"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
