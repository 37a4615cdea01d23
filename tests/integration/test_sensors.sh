#!/bin/sh
# test_sensors.sh - the sensors input (libsensors) and the hwmon input on chips this VM does
# not have. In a private mount namespace (unshare -m, as root) a tmpfs over /sys/class holds
# a virtual chip (hwmon0) and a platform chip (hwmon1 -> coretemp.0) with name, temp1_input,
# fan1_input ... files; /sys itself stays sysfs, as libsensors checks. There sonde --once
# prints Telegraf's sensors and temp points, two daemons serve node_hwmon_* from each input,
# and node_exporter 1.5's hwmon collector reads the same tree. Checked: exact values, a
# libsensors configuration's label, compute and ignore, and (when lm-sensors is installed)
# the points against Telegraf's parsing of `sensors -A -u`.
. tests/integration/lib.sh # uses this script's $1, the sonde binary

# This host as it is. Without hwmon (this VM): no points and no error.
cat >"$T/host.yaml" <<EOF
inputs:
  sensors: {}
  hwmon: {}
EOF
sonde_fg --config "$T/host.yaml" --once >"$T/host.lp" 2>"$T/host.err"
result "sonde --once with sensors and hwmon on this host exits 0" || note_file "$T/host.err"
if [ ! -e /sys/class/hwmon ]; then
    [ ! -s "$T/host.lp" ]
    result "a host without hwmon reports no sensor points" || note_file "$T/host.lp"
fi

if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null 2>&1; then
    ok "skipped: the virtual chips need root and unshare (a private mount namespace)"
    done_testing
fi

p_sensors=$(free_port 19160)
p_hwmon=$(free_port $((p_sensors + 1)))
p_ne=$(free_port $((p_hwmon + 1)))

# libsensors' configuration: a label, a computation and an ignored feature.
cat >"$T/sensors.conf" <<'EOF'
chip "sondetest-*"
    label fan1 "Case Fan"
    compute in0 @*2, @/2
    ignore temp2
EOF
cat >"$T/once.yaml" <<EOF
inputs:
  sensors:
    config_file: "$T/sensors.conf"
  hwmon: {}
EOF
cat >"$T/sensors.yaml" <<EOF
agent:
  interval: 200ms
web:
  listen_address: "127.0.0.1:$p_sensors"
inputs:
  sensors:
    config_file: "$T/sensors.conf"
    prometheus: true
EOF
cat >"$T/hwmon.yaml" <<EOF
agent:
  interval: 200ms
web:
  listen_address: "127.0.0.1:$p_hwmon"
inputs:
  hwmon: {}
EOF

# Runs inside the namespace: builds the chips, runs everything, leaves the outputs in $T.
cat >"$T/inner.sh" <<'EOF'
set -u
SONDE=$1 T=$2 P_SENSORS=$3 P_HWMON=$4 P_NE=$5
mount -t tmpfs sonde-sensors-test /sys/class || exit 1
w() { printf '%s\n' "$2" >"$1"; }
C=/sys/class
mkdir -p $C/hwmon/hwmon0 $C/sonde-bus/platform $C/sonde-devices/platform/coretemp.0/hwmon/hwmon1
H=$C/hwmon/hwmon0 # a virtual chip: no device link
w $H/name sondetest
w $H/temp1_input 42500; w $H/temp1_max 80000; w $H/temp1_crit 95000; w $H/temp1_crit_alarm 0
w $H/temp1_label Board; w $H/temp2_input 30000
w $H/fan1_input 1234; w $H/fan1_min 600
w $H/in0_input 1200; w $H/in1_input 3300; w $H/in1_min 3000; w $H/in1_max 3600
w $H/curr1_input 2500; w $H/power1_input 12345678; w $H/humidity1_input 45300
D=$C/sonde-devices/platform/coretemp.0 # a platform device, as coretemp is
ln -s ../../../sonde-bus/platform $D/subsystem
ln -s ../sonde-devices/platform/coretemp.0/hwmon/hwmon1 $C/hwmon/hwmon1
H=$D/hwmon/hwmon1
ln -s ../../../coretemp.0 $H/device
w $H/name coretemp
w $H/temp1_input 45000; w $H/temp1_label "Package id 0"; w $H/temp1_max 80000
w $H/temp1_crit 100000; w $H/temp1_crit_alarm 0; w $H/temp2_input 43000; w $H/temp2_label "Core 0"

timeout -k 2 20 "$SONDE" --config "$T/once.yaml" --once >"$T/once.lp" 2>"$T/once.err"
echo $? >"$T/once.rc"
if command -v sensors >/dev/null 2>&1; then
    sensors -A -u -c "$T/sensors.conf" >"$T/sensors.txt" 2>"$T/sensors.err"
fi

# scrape NAME URL: polls until the page has node_hwmon_temp_celsius, saves it as $T/NAME.prom.
scrape()
{
    _n=100
    while [ $_n -gt 0 ]; do
        if curl -s --max-time 1 "$2" >"$T/$1.prom" 2>/dev/null &&
            grep -q '^node_hwmon_temp_celsius{' "$T/$1.prom"; then
            return 0
        fi
        sleep 0.1
        _n=$((_n - 1))
    done
    return 1
}
# serve NAME COMMAND...: runs a server just long enough to scrape it once.
serve()
{
    _name=$1
    _url=$2
    shift 2
    "$@" >"$T/$_name.out" 2>&1 &
    _pid=$!
    scrape "$_name" "$_url"
    kill "$_pid" 2>/dev/null
    wait "$_pid" 2>/dev/null
}
serve sensors "http://127.0.0.1:$P_SENSORS/metrics" "$SONDE" --config "$T/sensors.yaml"
serve hwmon "http://127.0.0.1:$P_HWMON/metrics" "$SONDE" --config "$T/hwmon.yaml"

if command -v prometheus-node-exporter >/dev/null 2>&1; then
    serve ne "http://127.0.0.1:$P_NE/metrics" prometheus-node-exporter \
        --web.listen-address="127.0.0.1:$P_NE" --collector.disable-defaults --collector.hwmon
fi

# A chip that appears while sonde runs (a driver loaded late, a USB sensor): libsensors
# finds chips only when it loads, so the input must load it again.
"$SONDE" --config "$T/sensors.yaml" >"$T/hotplug.out" 2>&1 &
pid=$!
scrape hotplug "http://127.0.0.1:$P_SENSORS/metrics"
mkdir $C/sonde-new # built aside, then moved in at once, as the kernel shows a new chip
w $C/sonde-new/temp1_input 50000
w $C/sonde-new/name hotplug
mv $C/sonde-new $C/hwmon/hwmon2
n=50
echo 1 >"$T/hotplug.rc"
while [ $n -gt 0 ]; do
    if curl -s --max-time 1 "http://127.0.0.1:$P_SENSORS/metrics" |
        grep -q '^node_hwmon_temp_celsius{chip="hotplug",sensor="temp1"} 50$'; then
        echo 0 >"$T/hotplug.rc"
        break
    fi
    sleep 0.1
    n=$((n - 1))
done
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
exit 0
EOF
timeout -k 5 120 unshare -m sh "$T/inner.sh" "$SONDE" "$T" "$p_sensors" "$p_hwmon" "$p_ne" \
    >"$T/inner.out" 2>&1
result "the virtual chips are mounted in a private namespace" || note_file "$T/inner.out"
[ -d /sys/class/net ] && [ ! -e /sys/class/sonde-devices ]
result "the host's /sys/class is untouched"
[ "$(cat "$T/once.rc" 2>/dev/null)" = 0 ]
result "sonde --once reads the virtual chips and exits 0" || note_file "$T/once.err"
[ "$(cat "$T/hotplug.rc" 2>/dev/null)" = 0 ]
result "a chip that appears while sonde runs is found (libsensors loaded again)" ||
    note_file "$T/hotplug.out"

cat >"$T/check.py" <<'EOF'
import os, re, sys
sys.path.insert(0, os.environ["IT_DIR"])
import lineproto

T = sys.argv[1]
failed = 0


def check(cond, desc, detail=""):
    global failed
    print(("ok - " if cond else "not ok - ") + desc)
    if not cond:
        failed += 1
        for line in str(detail).splitlines()[:30]:
            print("#   " + line)


def read(name):
    try:
        with open(os.path.join(T, name), encoding="utf-8") as f:
            return f.read()
    except OSError:
        return ""


points = {}
for line in lineproto.split_lines(read("once.lp")):
    m, tags, fields, _ = lineproto.parse_line(line)
    tags.pop("host", None)
    points.setdefault(m, []).append((tags, fields))


def point(m, **tags):
    for t, f in points.get(m, []):
        if all(t.get(k) == v for k, v in tags.items()):
            return t, f
    return None, None


def floats(fields):
    return {k: v for k, (typ, v) in fields.items() if typ == "float"}


chip0 = "sondetest-virtual-0"
want = {
    "board": {"temp_input": 42.5, "temp_max": 80.0, "temp_crit": 95.0, "temp_crit_alarm": 0.0},
    "case_fan": {"fan_input": 1234.0, "fan_min": 600.0},
    "in0": {"in_input": 2.4},
    "in1": {"in_input": 3.3, "in_min": 3.0, "in_max": 3.6},
    "curr1": {"curr_input": 2.5},
    "power1": {"power_input": 12.346},
    "humidity1": {"humidity_input": 45.3},
}
for feature, fields in want.items():
    tags, f = point("sensors", chip=chip0, feature=feature)
    check(f is not None and floats(f) == fields and len(f) == len(fields),
          "sensors,chip=%s,feature=%s has %s" % (chip0, feature, fields),
          "got %r" % (f,))
check(point("sensors", chip=chip0, feature="temp2")[0] is None,
      "the configuration's `ignore temp2` holds")
tags, f = point("sensors", chip="coretemp-isa-0000", feature="package_id_0")
check(f is not None and floats(f) == {"temp_input": 45.0, "temp_max": 80.0, "temp_crit": 100.0,
                                      "temp_crit_alarm": 0.0},
      "sensors,chip=coretemp-isa-0000,feature=package_id_0 (a platform chip)", "got %r" % (f,))
check(len(points.get("sensors", [])) == 9, "9 sensors points (7 + 2 coretemp features)",
      "got %d" % len(points.get("sensors", [])))
check(all(tags.keys() == {"chip", "feature"} for tags, _ in points.get("sensors", [])),
      "sensors points are tagged chip and feature (and host)")

# Telegraf's temp input, from the hwmon input: v2 sensor names.
temps = {t["sensor"]: floats(f).get("temp") for t, f in points.get("temp", [])}
want_temps = {"sondetest_board_input": 42.5, "sondetest_board_max": 80.0,
              "sondetest_board_crit": 95.0, "sondetest_board_crit_alarm": 0.0,
              "sondetest_input": 30.0, "coretemp_package_id_0_input": 45.0,
              "coretemp_package_id_0_max": 80.0, "coretemp_package_id_0_crit": 100.0,
              "coretemp_package_id_0_crit_alarm": 0.0, "coretemp_core_0_input": 43.0}
check(temps == want_temps, "temp points (Telegraf's temp input) from the hwmon input",
      "got %r" % temps)

# Telegraf's parsing of `sensors -A -u`, when lm-sensors is installed.
text = read("sensors.txt")
if text:
    tel, chip, feature = [], "", None
    for line in text.strip().split("\n"):
        if not line:
            chip, feature = "", None
            continue
        if not chip:
            chip = line
            continue
        if not line.startswith("  "):
            feature = line.strip().replace(" ", "_").lower().rstrip(":")
            tel.append(((chip, feature), {}))
        else:
            name, value = line.split(":")
            tel[-1][1][re.sub("[0-9]+", "", name.strip())] = float(value.strip())
    ours = sorted(((t["chip"], t["feature"]), floats(f)) for t, f in points.get("sensors", []))
    tel = sorted(x for x in tel if x[1])
    check(ours == tel, "the points equal Telegraf's parsing of `sensors -A -u`",
          "sonde:    %r\nTelegraf: %r" % (ours, tel))

LINE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def hwmon_series(name):
    out, meta = {}, {}
    for line in read(name).splitlines():
        if line.startswith("# HELP node_hwmon") or line.startswith("# TYPE node_hwmon"):
            meta[line[:6] + line.split(" ")[2]] = line
            continue
        m = LINE_RE.match(line)
        if m and m.group(1).startswith("node_hwmon_"):
            out[(m.group(1), tuple(sorted(LABEL_RE.findall(m.group(3) or ""))))] = \
                float(m.group(4))
    return out, meta


sen, sen_meta = hwmon_series("sensors.prom")
hw, hw_meta = hwmon_series("hwmon.prom")


def val(series, name, **labels):
    return series.get((name, tuple(sorted(labels.items()))))


check(val(sen, "node_hwmon_temp_celsius", chip="sondetest", sensor="temp1") == 42.5 and
      val(sen, "node_hwmon_temp_celsius", chip="platform_coretemp_0", sensor="temp1") == 45.0,
      "sensors (prometheus: true): node_hwmon_temp_celsius of both chips")
check(val(sen, "node_hwmon_fan_rpm", chip="sondetest", sensor="fan1") == 1234.0 and
      val(sen, "node_hwmon_fan_min_rpm", chip="sondetest", sensor="fan1") == 600.0,
      "sensors: node_hwmon_fan_rpm and fan_min_rpm")
check(val(sen, "node_hwmon_in_volts", chip="sondetest", sensor="in0") == 2.4,
      "sensors: node_hwmon_in_volts applies the configuration's compute (1.2 V * 2)")
check(val(sen, "node_hwmon_power_watt", chip="sondetest", sensor="power1") == 12.345678 and
      val(sen, "node_hwmon_curr_amps", chip="sondetest", sensor="curr1") == 2.5 and
      val(sen, "node_hwmon_humidity", chip="sondetest", sensor="humidity1") == 0.0453,
      "sensors: power, current and humidity in node_exporter's units")
check(val(sen, "node_hwmon_sensor_label", chip="sondetest", sensor="fan1", label="Case Fan") == 1
      and val(sen, "node_hwmon_chip_names", chip="platform_coretemp_0", chip_name="coretemp")
      == 1, "sensors: the configuration's label, and chip names")
check(val(hw, "node_hwmon_temp_celsius", chip="sondetest", sensor="temp2") == 30.0 and
      val(hw, "node_hwmon_in_volts", chip="sondetest", sensor="in0") == 1.2,
      "hwmon: raw sysfs, no configuration (temp2 present, in0 not computed)")
diff = sorted("%s%s: sensors %s, hwmon %s" % (k[0], dict(k[1]), v, hw.get(k))
              for k, v in sen.items()
              if hw.get(k) != v and not (k[0] == "node_hwmon_in_volts" and
                                          dict(k[1]).get("sensor") == "in0")
              and k[0] != "node_hwmon_sensor_label")
check(len(sen) > 20 and not diff,
      "every other node_hwmon_* series of the sensors input equals the hwmon input's (%d)"
      % len(sen), "\n".join(diff))
help_diff = [k for k in sen_meta if sen_meta[k] != hw_meta.get(k)]
check(not help_diff, "the sensors input's HELP and TYPE lines equal the hwmon input's",
      "\n".join(help_diff))

ne, ne_meta = hwmon_series("ne.prom")
if ne:
    d = sorted(["only node_exporter: %s%s" % (k[0], dict(k[1])) for k in set(ne) - set(hw)] +
               ["only sonde: %s%s" % (k[0], dict(k[1])) for k in set(hw) - set(ne)] +
               ["%s%s: node_exporter %s, sonde %s" % (k[0], dict(k[1]), ne[k], hw[k])
                for k in set(ne) & set(hw) if ne[k] != hw[k]] +
               ["%s: %s / %s" % (k, ne_meta[k], hw_meta.get(k))
                for k in ne_meta if ne_meta[k] != hw_meta.get(k)])
    check(not d, "the hwmon input equals node_exporter's hwmon collector (%d series)" % len(ne),
          "\n".join(d))
sys.exit(1 if failed else 0)
EOF
IT_DIR=$IT_DIR python3 "$T/check.py" "$T" >"$T/check.out" 2>&1
rc=$?
cat "$T/check.out"
PASSED=$((PASSED + $(grep -c '^ok - ' "$T/check.out")))
FAILED=$((FAILED + $(grep -c '^not ok - ' "$T/check.out")))
if [ "$rc" -ne 0 ] && ! grep -q '^not ok - ' "$T/check.out"; then
    not_ok "the checks of the sensor outputs died (status $rc)"
fi

done_testing
