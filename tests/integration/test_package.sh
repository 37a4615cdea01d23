#!/bin/sh
# test_package.sh - the Debian package on this machine: build (or reuse a fresh `make deb`),
# lintian, install, the files, conffiles, user, man page and unit (systemd-analyze verify, and
# the unit's user and capabilities emulated with setpriv), reinstall over itself keeping a
# modified conffile, remove, purge, nothing left. Needs root; purges on exit, even on failure.
. tests/integration/lib.sh # $1 (the sonde binary) is unused: the package builds its own

if [ "$(id -u)" != 0 ]; then
    ok "skipped: installing a package needs root"
    done_testing
fi

version=$(cat VERSION)
arch=$(dpkg --print-architecture)
deb=build/sonde_${version}_${arch}.deb
unit=/lib/systemd/system/sonde.service
export DEBIAN_FRONTEND=noninteractive

# ---- the machine as found: this test must not clobber a real installation ----
if dpkg-query -W -f='${Status}' sonde 2>/dev/null | grep -qv 'not-installed'; then
    not_ok "the sonde package is already on this machine (dpkg --purge sonde to run this test)"
    done_testing
fi
if getent passwd sonde >/dev/null || getent group sonde >/dev/null; then
    not_ok "a user or group sonde exists without the package: purge would remove it"
    done_testing
fi
# dpkg_wait OUTFILE ARGS...: dpkg ARGS with its output in OUTFILE, tried again while another
# dpkg or apt-get holds the dpkg lock (another test may be installing packages), up to 120 s.
dpkg_wait()
{
    _out=$1
    shift
    _n=240
    while :; do
        dpkg "$@" </dev/null >"$_out" 2>&1 && return 0
        _rc=$?
        grep -q 'locked by another process\|is locked' "$_out" && [ "$_n" -gt 0 ] ||
            return "$_rc"
        sleep 0.5
        _n=$((_n - 1))
    done
}

catpage=/var/cache/man/cat1/sonde.1.gz
had_catpage=0
[ -e "$catpage" ] && had_catpage=1

# Purge whatever the test installed, and the cached man page `man` may have written, then
# lib.sh's own cleanup; the exit status is the test's.
# shellcheck disable=SC2317 # called from the EXIT trap
package_cleanup()
{
    _prc=$?
    if dpkg-query -W -f='${Status}' sonde 2>/dev/null | grep -qv 'not-installed'; then
        echo "# cleanup: purging sonde"
        dpkg_wait "$T/cleanup-purge" --purge sonde
    fi
    getent passwd sonde >/dev/null && userdel sonde 2>/dev/null
    getent group sonde >/dev/null && groupdel sonde 2>/dev/null
    [ "$had_catpage" = 0 ] && rm -f "$catpage"
    return "$_prc"
}
trap 'package_cleanup; cleanup' EXIT

if ! sh tests/lib/ensure-debs.sh debhelper devscripts lintian fakeroot systemd >"$T/debs" 2>&1
then
    not_ok "the packaging tools are installed (debhelper devscripts lintian fakeroot systemd)"
    note_file "$T/debs"
    done_testing
fi

# ---- build, unless `make deb` left a package newer than every source file ----
stale=""
if [ -f "$deb" ]; then
    stale=$(find . \( -path ./build -o -path './build-*' -o -path ./.git \) -prune -o \
        -type f -newer "$deb" -print | head -n 1)
fi
if [ -f "$deb" ] && [ -z "$stale" ]; then
    ok "package $deb from make deb is newer than the sources: reused"
else
    LINTIAN=0 sh packaging/build-deb.sh >"$T/build" 2>&1 && [ -f "$deb" ]
    result "packaging/build-deb.sh builds $deb" || {
        note_file "$T/build" 40
        done_testing
    }
fi

# ---- lintian ----
lintian --display-info "$deb" >"$T/lintian" 2>&1
! grep -q '^E: ' "$T/lintian"
result "lintian reports no error" || note_file "$T/lintian" 40
grep -E '^[WI]: ' "$T/lintian" | sed 's/^/# lintian: /'

dpkg-deb -f "$deb" Depends >"$T/depends"
# shellcheck disable=SC2016 # a literal ${: an unsubstituted variable
grep -q '\badduser\b' "$T/depends" && grep -q '\blibc6 (>= ' "$T/depends" &&
    ! grep -q '\${' "$T/depends"
result "Depends: adduser plus computed shared-library dependencies" || note_file "$T/depends"
# libcurl and snappy are loaded with dlopen: the package must still depend on them.
grep -q '\blibcurl4 (>= ' "$T/depends" && grep -q '\blibsnappy1v5 (>= ' "$T/depends"
result "Depends: the dlopen-loaded libcurl4 and libsnappy1v5, versioned" || note_file "$T/depends"

# ---- install (no systemd as PID 1 here: the maintainer scripts must cope) ----
dpkg_wait "$T/install" -i "$deb"
result "dpkg -i installs the package" || {
    note_file "$T/install"
    done_testing
}
dpkg-query -W -f='${Status}' sonde 2>/dev/null | grep -qx 'install ok installed'
result "dpkg says: install ok installed"

[ -x /usr/bin/sonde ] && [ "$(/usr/bin/sonde --version)" = "sonde $version" ]
result "/usr/bin/sonde --version prints \"sonde $version\""
cmp -s /etc/sonde/sonde.yaml packaging/sonde.yaml
result "/etc/sonde/sonde.yaml is packaging/sonde.yaml"
[ -d /etc/sonde/conf.d ] && [ -z "$(ls -A /etc/sonde/conf.d)" ]
result "/etc/sonde/conf.d/ exists, empty"
[ "$(stat -c '%a %U %G' /etc/default/sonde 2>&1)" = "600 root root" ] &&
    grep -q '^SONDE_OPTS=' /etc/default/sonde
result "/etc/default/sonde: mode 600, root, sets SONDE_OPTS" ||
    note "$(stat -c '%a %U %G' /etc/default/sonde 2>&1)"
for f in /usr/share/man/man1/sonde.1.gz /usr/share/doc/sonde/copyright \
    /usr/share/doc/sonde/changelog.gz /usr/share/doc/sonde/README.md.gz "$unit"; do
    [ -s "$f" ]
    result "installed: $f"
done

dpkg-query -W -f='${Conffiles}\n' sonde >"$T/conffiles"
grep -q '^ /etc/sonde/sonde.yaml [0-9a-f]\{32\}$' "$T/conffiles" &&
    grep -q '^ /etc/default/sonde [0-9a-f]\{32\}$' "$T/conffiles"
result "conffiles: /etc/sonde/sonde.yaml and /etc/default/sonde" || note_file "$T/conffiles"

# ---- the system user ----
pw=$(getent passwd sonde)
uid=$(echo "$pw" | cut -d: -f3)
[ -n "$pw" ] && [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] &&
    [ "$(echo "$pw" | cut -d: -f7)" = /usr/sbin/nologin ] &&
    [ "$(id -gn sonde)" = sonde ]
result "system user sonde (uid below 1000, nologin shell, primary group sonde)" || note "$pw"

# ---- the installed configuration ----
timeout 20 /usr/bin/sonde --check-config --config /etc/sonde/sonde.yaml >"$T/cc" 2>&1
result "sonde --check-config --config /etc/sonde/sonde.yaml exits 0" || note_file "$T/cc"
timeout 20 runuser -u sonde -- /usr/bin/sonde --check-config --config /etc/sonde/sonde.yaml \
    >"$T/cc" 2>&1
result "the same as the user sonde exits 0" || note_file "$T/cc"

# ---- the man page: renders without warnings, documents every flag of --help ----
man -w sonde >"$T/manw" 2>&1 && grep -qx /usr/share/man/man1/sonde.1.gz "$T/manw"
result "man -w sonde finds /usr/share/man/man1/sonde.1.gz" || note_file "$T/manw"
LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l /usr/share/man/man1/sonde.1.gz \
    >/dev/null 2>"$T/manwarn"
[ ! -s "$T/manwarn" ]
result "the man page renders without groff warnings" || note_file "$T/manwarn"
zcat /usr/share/man/man1/sonde.1.gz | sed 's/\\-/-/g' >"$T/man.txt"
missing=""
for flag in $(/usr/bin/sonde --help | grep -o -- '--[a-z][a-z.-]*' | sort -u); do
    grep -q -F -- "$flag" "$T/man.txt" || missing="$missing $flag"
done
[ -z "$missing" ]
result "the man page documents every flag of sonde --help" || note "missing:$missing"

# ---- the unit ----
systemd-analyze verify --man=no "$unit" >"$T/verify" 2>&1 && [ ! -s "$T/verify" ]
result "systemd-analyze verify accepts $unit" || note_file "$T/verify"
# What the hardening rests on, line by line (the comments in the unit say why).
# shellcheck disable=SC2016 # $SONDE_OPTS and $MAINPID are systemd's to expand
for line in 'User=sonde' 'Group=sonde' 'EnvironmentFile=-/etc/default/sonde' \
    'ExecStart=/usr/bin/sonde --config /etc/sonde/sonde.yaml $SONDE_OPTS' \
    'ExecReload=/bin/kill -HUP $MAINPID' 'Restart=on-failure' 'NoNewPrivileges=yes' \
    'ProtectSystem=strict' 'CapabilityBoundingSet=CAP_DAC_READ_SEARCH CAP_SYS_PTRACE' \
    'AmbientCapabilities=CAP_DAC_READ_SEARCH CAP_SYS_PTRACE' \
    'SystemCallFilter=@system-service' 'StateDirectory=sonde' \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK'; do
    grep -q -x -F -- "$line" "$unit"
    result "unit: $line"
done
systemd-analyze security --offline=yes "$unit" >"$T/security" 2>&1
exposure=$(sed -n 's/.*Overall exposure level for sonde.service: \([0-9.]*\).*/\1/p' \
    "$T/security")
[ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 3.0) }'
result "systemd-analyze security: exposure ${exposure:-?} (at most 3.0)" ||
    note_file "$T/security" 40
[ -L /etc/systemd/system/multi-user.target.wants/sonde.service ]
result "the service is enabled (multi-user.target.wants)"

# ---- the service's process, without systemd: the unit's user, capabilities and
# environment file, emulated with setpriv; an endpoint answers, SIGHUP reloads ----
port=$(free_port 19170)
SONDE_OPTS=""
# shellcheck disable=SC1091 # installed by the package
[ -r /etc/default/sonde ] && set -a && . /etc/default/sonde && set +a
caps=+dac_read_search,+sys_ptrace
# shellcheck disable=SC2086 # SONDE_OPTS is a list of flags, as in ExecStart
spawn service setpriv --reuid=sonde --regid=sonde --init-groups --no-new-privs \
    --inh-caps=-all,$caps --ambient-caps=-all,$caps --bounding-set=-all,$caps \
    /usr/bin/sonde --config /etc/sonde/sonde.yaml $SONDE_OPTS \
    --web.listen-address="127.0.0.1:$port"
svc=$SPAWNED
wait_http "http://127.0.0.1:$port/metrics" 10 "$svc"
result "as the user sonde with the unit's capabilities, sonde serves /metrics" || {
    note_file "$T/service.err"
}
# CAP_DAC_READ_SEARCH is bit 2, CAP_SYS_PTRACE bit 19: 0x80004.
grep -q "^Uid:[[:space:]]*${uid}[[:space:]]" "/proc/$svc/status" &&
    grep -q '^CapEff:[[:space:]]*0000000000080004$' "/proc/$svc/status" &&
    grep -q '^CapBnd:[[:space:]]*0000000000080004$' "/proc/$svc/status" &&
    grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$svc/status"
result "its process: uid sonde, CapEff and CapBnd = DAC_READ_SEARCH + SYS_PTRACE" ||
    note "$(grep -E '^(Uid|Cap|NoNewPrivs)' "/proc/$svc/status" 2>&1)"
curl -s --max-time 5 "http://127.0.0.1:$port/metrics" | grep -q '^node_cpu_seconds_total{'
result "its /metrics has node_cpu_seconds_total"
kill -HUP "$svc"
sleep 0.5
alive "$svc" && [ "$(http_status "http://127.0.0.1:$port/metrics")" = 200 ]
result "SIGHUP (ExecReload): still running and serving" || note_file "$T/service.err"
stop "$svc" 10
[ "$STOP_RC" -eq 0 ] && [ "$STOP_TIMED_OUT" -eq 0 ]
result "SIGTERM: exits 0" || note "status $STOP_RC"

# ---- reinstall over itself: a modified conffile is kept ----
echo "# local change by test_package.sh" >>/etc/sonde/sonde.yaml
dpkg_wait "$T/reinstall" -i "$deb"
result "dpkg -i again (over itself) succeeds" || note_file "$T/reinstall"
grep -q -x '# local change by test_package.sh' /etc/sonde/sonde.yaml &&
    [ -z "$(find /etc/sonde -name '*.dpkg-*')" ]
result "the locally modified /etc/sonde/sonde.yaml is kept, no .dpkg-* copies"
timeout 20 /usr/bin/sonde --check-config --config /etc/sonde/sonde.yaml >"$T/cc" 2>&1
result "--check-config still exits 0" || note_file "$T/cc"
[ "$(getent passwd sonde | cut -d: -f3)" = "$uid" ]
result "the user sonde is kept, same uid"

# ---- remove: binary gone, configuration kept ----
dpkg_wait "$T/remove" -r sonde
result "dpkg -r sonde succeeds" || note_file "$T/remove"
[ ! -e /usr/bin/sonde ] && [ ! -e "$unit" ]
result "after dpkg -r: /usr/bin/sonde and the unit are gone"
grep -q -x '# local change by test_package.sh' /etc/sonde/sonde.yaml 2>/dev/null &&
    [ -f /etc/default/sonde ]
result "after dpkg -r: the conffiles are kept, with the local change"
dpkg-query -W -f='${Status}' sonde 2>/dev/null | grep -qx 'deinstall ok config-files'
result "dpkg says: deinstall ok config-files"

# ---- purge: nothing left ----
dpkg_wait "$T/purge" --purge sonde
result "dpkg --purge sonde succeeds" || note_file "$T/purge"
grep -q -i 'warning\|error' "$T/purge" && note_file "$T/purge"
[ ! -e /etc/sonde ] && [ ! -e /etc/default/sonde ] && [ ! -e /var/lib/sonde ]
result "after purge: no /etc/sonde, /etc/default/sonde or /var/lib/sonde"
! getent passwd sonde >/dev/null && ! getent group sonde >/dev/null
result "after purge: no user or group sonde"
! dpkg -L sonde >/dev/null 2>&1 && ! dpkg-query -W sonde >/dev/null 2>&1
result "after purge: dpkg knows nothing of sonde"
left=$(find /etc /lib/systemd /usr/bin /usr/share/doc /usr/share/man /var/lib/systemd \
    -name '*sonde*' 2>/dev/null)
[ -z "$left" ]
result "after purge: no file named sonde under /etc, /lib/systemd, /usr, /var/lib/systemd" ||
    note "$left"

done_testing
