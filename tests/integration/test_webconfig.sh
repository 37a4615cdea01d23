#!/bin/sh
# test_webconfig.sh - the endpoint with a web configuration file (--web.config.file, the Prometheus
# exporters' format) and its limits: promtool accepts the files tested; --check-config and start-up
# refuse broken ones with FILE:LINE:COLUMN; HTTPS with a generated CA, plain HTTP refused on the
# TLS port; basic auth with a generated bcrypt hash (401 + WWW-Authenticate, wrong password,
# right one); extra headers; changes picked up without a restart (new user, broken file kept out,
# new certificate, client certificate policies, TLS versions); SIGHUP to turn TLS off; secrets
# kept out of logs and /metrics; many slow clients from 127.0.0.2 while 127.0.0.1 still scrapes.
. tests/integration/lib.sh # uses this script's $1, the sonde binary

sh tests/lib/ensure-debs.sh openssl prometheus curl python3 >"$T/debs.out" 2>&1
for tool in openssl promtool curl python3 cc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        not_ok "$tool is available"
        note_file "$T/debs.out"
        done_testing
    fi
done

W=$T/web
mkdir -p "$W"

# ---- certificates: two CAs, server certificates for 127.0.0.1, a client, a rogue client ----
# mkcert NAME CA SUBJECT EXTENSIONS: NAME.key and NAME.pem signed by CA (EC P-256).
mkcert()
{
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/$1.key" \
        -out "$W/$1.csr" -subj "/CN=$3" >>"$T/openssl.out" 2>&1 &&
        printf '%s\n' "$4" >"$W/$1.ext" &&
        openssl x509 -req -in "$W/$1.csr" -CA "$W/$2.pem" -CAkey "$W/$2.key" -CAcreateserial \
            -out "$W/$1.pem" -days 2 -extfile "$W/$1.ext" >>"$T/openssl.out" 2>&1
}
mkca()
{
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/$1.key" \
        -out "$W/$1.pem" -days 2 -subj "/CN=$1" >>"$T/openssl.out" 2>&1
}
server_ext="subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
mkca ca && mkca ca2 && mkca rogue_ca &&
    mkcert server ca localhost "$server_ext" && mkcert server2 ca2 localhost "$server_ext" &&
    mkcert client ca scraper "extendedKeyUsage=clientAuth" &&
    mkcert rogue rogue_ca scraper "extendedKeyUsage=clientAuth"
result "openssl generates a CA, server and client certificates" || {
    note_file "$T/openssl.out"
    done_testing
}

# ---- a bcrypt hash, with libcrypt (the library sonde verifies with) ----
cc -o "$T/bcrypt_hash" tests/integration/bcrypt_hash.c -lcrypt >"$T/cc.out" 2>&1 &&
    alice_hash=$("$T/bcrypt_hash" 's3cret-alice' 10) && bob_hash=$("$T/bcrypt_hash" 'b0b' 10)
result "bcrypt hashes generated (cost 10)" || {
    note_file "$T/cc.out"
    done_testing
}

# The file tested first: TLS, one user, two headers; relative paths (to the file's directory).
cat >"$W/web.yml" <<EOF
tls_server_config:
  cert_file: server.pem
  key_file: server.key
http_server_config:
  headers:
    X-Frame-Options: deny
    Strict-Transport-Security: max-age=31536000
basic_auth_users:
  alice: $alice_hash
EOF
cp "$W/web.yml" "$W/web.orig.yml"
cat >"$W/web.mtls.yml" <<EOF
tls_server_config:
  cert_file: server.pem
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.pem
  min_version: TLS12
  max_version: TLS13
EOF

# ---- promtool accepts the files sonde is tested with (the same format) ----
for f in web.yml web.mtls.yml; do
    promtool check web-config "$W/$f" >"$T/promtool.out" 2>&1
    result "promtool check web-config accepts $f" || note_file "$T/promtool.out"
done

# ---- --check-config validates the web configuration ----
port=$(free_port 19160)
cat >"$W/sonde.yaml" <<EOF
agent:
  interval: 1s
web:
  listen_address: "127.0.0.1:$port"
  config_file: web.yml
inputs:
  system: {}
EOF
sonde_fg --check-config --config "$W/sonde.yaml" >"$T/o" 2>"$T/e"
result "--check-config accepts web.config_file: web.yml (relative to sonde.yaml)" || note_file "$T/e"

# expect_web_error DESCRIPTION FILE_CONTENT LINE:COLUMN WORD: --check-config with that web file
# exits 2 with FILE:LINE:COLUMN: ... WORD ... on stderr.
expect_web_error()
{
    printf '%s\n' "$2" >"$W/bad.yml"
    sonde_fg --check-config --config "$W/sonde.yaml" --web.config.file "$W/bad.yml" \
        >"$T/o" 2>"$T/e"
    _rc=$?
    [ "$_rc" -eq 2 ] && grep -F "$W/bad.yml:$3: " "$T/e" | grep -q -F -- "$4"
    result "--check-config: $1 exits 2 with bad.yml:$3 ($4)" || { note "rc=$_rc"; note_file "$T/e"; }
}
expect_web_error "an unknown key" "tls_server_config:
  cert_file: $W/server.pem
  key_file: $W/server.key
  bogus: 1" 4:3 'unknown key "bogus"'
expect_web_error "a client_auth_type typo" "tls_server_config:
  cert_file: $W/server.pem
  key_file: $W/server.key
  client_auth_type: RequireAndVerify" 4:21 "client_auth_type"
expect_web_error "a missing key file" "tls_server_config:
  cert_file: $W/server.pem
  key_file: $W/missing.key" 3:13 "cannot read"
expect_web_error "a key that does not match the certificate" "tls_server_config:
  cert_file: $W/server.pem
  key_file: $W/client.key" 3:13 "key_file"
expect_web_error "a header the exporters do not allow" "http_server_config:
  headers:
    Content-Type: text/html" 3:5 "Content-Type cannot be configured"
expect_web_error "a min_version above max_version" "tls_server_config:
  cert_file: $W/server.pem
  key_file: $W/server.key
  min_version: TLS13
  max_version: TLS12" 2:3 "min_version"
bad_hash='$2y$10$thisisnotavalidbcrypthashatallxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'
expect_web_error "a bad bcrypt hash" "basic_auth_users:
  carol: '$bad_hash'" 2:10 'user "carol"'
! grep -q -F 'thisisnotavalid' "$T/e"
result "the error about a bad hash does not print the hash" || note_file "$T/e"
# The flag wins over the YAML key: sonde.yaml names web.yml, the flag a broken file.
printf 'bogus: 1\n' >"$W/bad.yml"
sonde_fg --web.config.file="$W/bad.yml" --config "$W/sonde.yaml" >"$T/o" 2>"$T/e"
rc=$?
[ "$rc" -eq 2 ] && grep -q -F "$W/bad.yml:1:1: " "$T/e"
result "sonde does not start with a broken --web.config.file (exit 2, FILE:1:1), the flag wins" ||
    { note "rc=$rc"; note_file "$T/e"; }

# ---- a running endpoint with TLS and basic auth ----
base=https://127.0.0.1:$port
spawn sonde "$SONDE" --config "$W/sonde.yaml"
pid=$SPAWNED
# get URL [CURL ARGS...]: prints the status (000: no HTTP answer), headers in $T/h, body in $T/b.
get()
{
    _url=$1
    shift
    curl -s --max-time 5 -D "$T/h.raw" -o "$T/b" -w '%{http_code}' "$@" "$_url"
    tr -d '\r' <"$T/h.raw" >"$T/h" 2>/dev/null
}
served()
{
    [ "$(get "$base/metrics" --cacert "$W/ca.pem" -u 'alice:s3cret-alice')" = 200 ]
}
if ! wait_for 10 served; then
    not_ok "sonde serves $base/metrics with TLS and basic auth within 10 s"
    note_file "$T/sonde.err"
    done_testing
fi
ok "sonde serves $base/metrics with TLS and basic auth within 10 s"
grep -q '^node_load1 ' "$T/b" && grep -q -i '^x-frame-options: deny$' "$T/h" &&
    grep -q -i '^strict-transport-security: max-age=31536000$' "$T/h"
result "the right password gets the metrics and the configured headers" || note_file "$T/h"

[ "$(get "$base/metrics" --cacert "$W/ca.pem")" = 401 ] &&
    grep -q -i '^www-authenticate: Basic realm="sonde"$' "$T/h" &&
    grep -q -i '^x-frame-options: deny$' "$T/h"
result "no credentials: 401 with WWW-Authenticate: Basic realm=\"sonde\" (and the headers)" ||
    note_file "$T/h"
[ "$(get "$base/" --cacert "$W/ca.pem")" = 401 ] && grep -q -i '^www-authenticate: Basic' "$T/h"
result "no credentials on /: 401 with WWW-Authenticate"
[ "$(get "$base/metrics" --cacert "$W/ca.pem" -u 'alice:wrong')" = 401 ]
result "a wrong password: 401"
[ "$(get "$base/metrics" --cacert "$W/ca.pem" -u 'mallory:s3cret-alice')" = 401 ]
result "an unknown user: 401"
[ "$(get "$base/metrics" --cacert "$W/ca.pem" -u 'alice:s3cret-alice' -X POST)" = 405 ]
result "POST with the right password: 405; without: 401" &&
    [ "$(get "$base/metrics" --cacert "$W/ca.pem" -X POST)" = 401 ]
[ "$(get "$base/" --cacert "$W/ca.pem" -u 'alice:s3cret-alice')" = 200 ] &&
    grep -q 'href="/metrics"' "$T/b"
result "GET / with the right password: the index page"
[ "$(get "$base/nope" --cacert "$W/ca.pem" -u 'alice:s3cret-alice')" = 404 ]
result "GET /nope with the right password: 404"

# Plain HTTP on the TLS port fails the handshake: no HTTP answer at all.
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")
rc=$?
[ "$rc" -ne 0 ] && [ "$code" = 000 ]
result "plain HTTP on the TLS port gets no HTTP answer (curl exit $rc)"
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$base/metrics")
rc=$?
[ "$rc" -eq 60 ] || [ "$rc" -eq 35 ]
result "without the CA, curl refuses the server's certificate (exit $rc)"

# What a verification costs: the first request of a user pays bcrypt, the next are cached.
t_first=$(curl -s --max-time 5 -o /dev/null -w '%{time_total}' --cacert "$W/ca.pem" \
    -u 'alice:wrong-but-timed' "$base/metrics")
t_cached=$(curl -s --max-time 5 -o /dev/null -w '%{time_total}' --cacert "$W/ca.pem" \
    -u 'alice:s3cret-alice' "$base/metrics")
note "request with a bcrypt verification (cost 10): ${t_first}s; cached: ${t_cached}s"

# ---- secrets: neither the hash nor the password in the log or the metrics ----
get "$base/metrics" --cacert "$W/ca.pem" -u 'alice:s3cret-alice' >/dev/null
! grep -q -F -e "$alice_hash" -e 's3cret' "$T/sonde.err" "$T/b"
result "neither alice's hash nor her password appear in the log or in /metrics"

# ---- changes are picked up without a restart ----
# new_web CONTENT: replaces web.yml the way configuration management does (rename).
new_web()
{
    printf '%s\n' "$1" >"$W/web.yml.new" && mv "$W/web.yml.new" "$W/web.yml"
}
new_web "$(cat "$W/web.orig.yml")
  bob: $bob_hash"
[ "$(get "$base/metrics" --cacert "$W/ca.pem" -u 'bob:b0b')" = 200 ]
result "a user added to the file is let in at once, without a restart" || note_file "$T/sonde.err"
[ "$(get "$base/metrics" --cacert "$W/ca.pem" -u 'alice:s3cret-alice')" = 200 ]
result "alice still gets in after the change"
alive "$pid"
result "the same sonde process (pid $pid) serves after the change"
grep -q 'web configuration .* reloaded' "$T/sonde.err"
result "the reload is logged" || note_file "$T/sonde.err"

# Headers follow the file too.
new_web "$(sed '/X-Frame-Options/d' "$W/web.orig.yml")
  bob: $bob_hash"
get "$base/metrics" --cacert "$W/ca.pem" -u 'bob:b0b' >/dev/null
! grep -q -i '^x-frame-options' "$T/h" && grep -q -i '^strict-transport-security' "$T/h"
result "a header removed from the file is no longer sent" || note_file "$T/h"

# A broken file is refused, logged with its position, and the previous settings stay.
new_web "basic_auth_users:
  bob: $bob_hash
bogus_key: 1"
[ "$(get "$base/metrics" --cacert "$W/ca.pem" -u 'bob:b0b')" = 200 ] &&
    [ "$(get "$base/metrics" --cacert "$W/ca.pem")" = 401 ]
result "a broken file keeps the previous settings (bob in, anonymous out)"
grep -q -F "$W/web.yml:3:1: unknown key \"bogus_key\"" "$T/sonde.err"
result "the broken file is logged with FILE:3:1" || note_file "$T/sonde.err"

# ---- a new certificate (another CA) applies to the next connection ----
new_web "tls_server_config:
  cert_file: server2.pem
  key_file: server2.key
basic_auth_users:
  bob: $bob_hash"
[ "$(get "$base/metrics" --cacert "$W/ca2.pem" -u 'bob:b0b')" = 200 ] &&
    [ "$(get "$base/metrics" --cacert "$W/ca.pem" -u 'bob:b0b')" = 000 ]
result "a new certificate is served from the next connection on (no restart)" ||
    note_file "$T/sonde.err"
# Rotation in place: same path, new content.
cp "$W/server.pem" "$W/server2.pem.new" && mv "$W/server2.pem.new" "$W/server2.pem" &&
    cp "$W/server.key" "$W/server2.key.new" && mv "$W/server2.key.new" "$W/server2.key"
[ "$(get "$base/metrics" --cacert "$W/ca.pem" -u 'bob:b0b')" = 200 ]
result "a certificate replaced under the same file name is picked up too" ||
    note_file "$T/sonde.err"

# ---- TLS versions ----
new_web "tls_server_config:
  cert_file: server.pem
  key_file: server.key
  min_version: TLS13"
[ "$(get "$base/metrics" --cacert "$W/ca.pem" --tls-max 1.2)" = 000 ] &&
    [ "$(get "$base/metrics" --cacert "$W/ca.pem")" = 200 ]
result "min_version: TLS13 refuses a TLS 1.2 client and serves a TLS 1.3 one"

# ---- client certificates (the policy changes without a restart too) ----
new_web "$(cat "$W/web.mtls.yml")"
mtls()
{
    get "$base/metrics" --cacert "$W/ca.pem" "$@"
}
[ "$(mtls)" = 000 ]
result "RequireAndVerifyClientCert: no client certificate, no answer"
[ "$(mtls --cert "$W/client.pem" --key "$W/client.key")" = 200 ]
result "RequireAndVerifyClientCert: a client certificate of the CA gets 200"
[ "$(mtls --cert "$W/rogue.pem" --key "$W/rogue.key")" = 000 ]
result "RequireAndVerifyClientCert: a certificate of another CA is refused"
[ "$(mtls --cert "$W/server.pem" --key "$W/server.key")" = 000 ]
result "RequireAndVerifyClientCert: a certificate of the CA without clientAuth usage is refused"
[ "$(mtls --tls-max 1.2)" = 000 ] &&
    [ "$(mtls --tls-max 1.2 --cert "$W/client.pem" --key "$W/client.key")" = 200 ]
result "RequireAndVerifyClientCert holds with TLS 1.2 as well"
new_web "$(sed 's/RequireAndVerifyClientCert/VerifyClientCertIfGiven/' "$W/web.mtls.yml")"
[ "$(mtls)" = 200 ] && [ "$(mtls --cert "$W/client.pem" --key "$W/client.key")" = 200 ] &&
    [ "$(mtls --cert "$W/rogue.pem" --key "$W/rogue.key")" = 000 ]
result "VerifyClientCertIfGiven: none or a good one served, a bad one refused"
new_web "tls_server_config:
  cert_file: server.pem
  key_file: server.key
  client_auth_type: RequireAnyClientCert"
[ "$(mtls)" = 000 ] && [ "$(mtls --cert "$W/rogue.pem" --key "$W/rogue.key")" = 200 ]
result "RequireAnyClientCert: none refused, any certificate served"

# ---- turning TLS off takes SIGHUP ----
new_web "basic_auth_users:
  bob: $bob_hash"
[ "$(get "$base/metrics" --cacert "$W/ca.pem" -u 'bob:b0b' --cert "$W/client.pem" \
    --key "$W/client.key")" = 200 ]
result "a file without TLS is not applied while running with TLS (HTTPS still served)"
grep -q 'turns TLS off, which takes a restart of the endpoint (SIGHUP)' "$T/sonde.err"
result "the log says that turning TLS off takes SIGHUP" || note_file "$T/sonde.err"
kill -HUP "$pid"
plain()
{
    [ "$(get "http://127.0.0.1:$port/metrics" -u 'bob:b0b')" = 200 ]
}
wait_for 10 plain
result "after SIGHUP the endpoint serves plain HTTP with the file's users" ||
    note_file "$T/sonde.err"
[ "$(get "http://127.0.0.1:$port/metrics")" = 401 ]
result "after SIGHUP, no credentials still get 401"
alive "$pid"
result "sonde keeps running across the SIGHUP (pid $pid)"
stop "$pid" 5
[ "$STOP_RC" -eq 0 ] && [ "$STOP_TIMED_OUT" -eq 0 ]
result "sonde stops on SIGTERM with status 0" || note "status $STOP_RC"

# ---- slow clients from one address (slowloris) ----
# 40 connections from 127.0.0.2 that never finish their request headers, against 32 slots:
# the per-address limit (8) keeps slots for 127.0.0.1. The control run without the limit
# shows that the same attack otherwise takes every slot.
python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0))' 2>/dev/null
result "127.0.0.2 (loopback) can be bound by a client" || done_testing
# slow_sonde NAME PER_IP: a plain HTTP sonde with 32 connection slots; sets sport and spid.
slow_sonde()
{
    sport=$(free_port $((port + 1)))
    cat >"$W/$1.yaml" <<EOF
agent:
  interval: 1s
web:
  listen_address: "127.0.0.1:$sport"
  max_connections: 32
  max_connections_per_ip: $2
  request_timeout: 30s
inputs:
  system: {}
EOF
    spawn "$1" "$SONDE" --config "$W/$1.yaml"
    spid=$SPAWNED
    wait_http "http://127.0.0.1:$sport/metrics" 10 "$spid"
}
if slow_sonde sonde_slow 8; then
    py_checks slowloris.py "$sport" 40 served
else
    not_ok "sonde with max_connections_per_ip: 8 starts"
    note_file "$T/sonde_slow.err"
fi
stop "$spid" 5
if slow_sonde sonde_nolimit 0; then
    py_checks slowloris.py "$sport" 40 blocked
else
    not_ok "sonde with max_connections_per_ip: 0 starts"
fi
stop "$spid" 5

done_testing
