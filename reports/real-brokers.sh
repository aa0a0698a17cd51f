#!/usr/bin/env bash
# Runs the mqttspec suite against every real MQTT broker installable on this machine and
# writes, per broker, reports/brokers/<name>/{results.json,report.html}, then the
# side-by-side matrix reports/brokers/matrix.html and the table reports/brokers/SUMMARY.md.
#
#   bash reports/real-brokers.sh                 # every broker below
#   BROKERS="mosquitto reference" bash reports/real-brokers.sh
#   RMQTT=1 …                                    # rmqtt too (opt-in; not attempted by default)
#
# Brokers: mosquitto (Debian package), reference (mqttspec's own), rumqttd (cargo install,
# two runs: its v4 listener with --protocol 3.1.1, its v5 listener with --protocol 5), amqtt
# (pip, 3.1.1 only), ejabberd (mod_mqtt; Debian package, needs root: apt-get and a user
# registered for the MQTT login, which ejabberd requires).
#
# Everything it installs goes under $SCRATCH (default /tmp/mqttspec-brokers), except
# ejabberd, which only exists as a system package (installed with apt-get if missing and we
# are root; EJABBERD_INSTALL=0 to never install). Every broker listens on 127.0.0.1 only, on
# the free port mqttspec picks, and is started and stopped by `mqttspec run --spawn`.
# A broker that cannot be installed or started is reported as skipped in SUMMARY.md and the
# script goes on with the others. Exit code 0 unless the suite itself could not be built.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=${OUT:-reports/brokers}
SCRATCH=${SCRATCH:-${TMPDIR:-/tmp}/mqttspec-brokers}
BROKERS=${BROKERS:-"mosquitto reference rumqttd amqtt ejabberd"}
[ "${RMQTT:-0}" = 1 ] && BROKERS="$BROKERS rmqtt"
RUN_TIMEOUT=${RUN_TIMEOUT:-480}   # mqttspec's own bound on one run, seconds
JOBS=${JOBS:-128}
RUMQTTD_VERSION=${RUMQTTD_VERSION:-0.20.0}
AMQTT_VERSION=${AMQTT_VERSION:-0.12.1}
mkdir -p "$OUT" "$SCRATCH"
OUT_ABS=$(cd "$OUT" && pwd)

log() { printf '\n=== %s\n' "$*" >&2; }

log "building mqttspec"
cargo build --release -q -p mqttspec
MQTTSPEC="$ROOT/target/release/mqttspec"

# One line per run: name<TAB>label<TAB>version<TAB>protocols<TAB>status<TAB>seconds<TAB>note
RUNS="$OUT_ABS/.runs.tsv"
: >"$RUNS"
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RUNS"; }

# run_suite NAME LABEL VERSION PROTOCOL [mqttspec run flags…]
run_suite() {
  local name=$1 label=$2 version=$3 protocol=$4
  shift 4
  local dir="$OUT_ABS/$name" rc=0 t0 t1
  rm -rf "$dir"
  mkdir -p "$dir"
  log "$label ($version), protocol $protocol -> $OUT/$name"
  t0=$(date +%s)
  # The outer timeout only guards against a hung launcher; mqttspec bounds the run itself.
  timeout $((RUN_TIMEOUT + 120)) "$MQTTSPEC" run --protocol "$protocol" --jobs "$JOBS" \
    --timeout "$RUN_TIMEOUT" --format json,html --transcripts failures --report-dir "$dir" "$@" \
    >"$dir/run.log" 2>&1 || rc=$?
  t1=$(date +%s)
  tail -n 3 "$dir/run.log" >&2 || true
  local status
  case $rc in
    0 | 1) status=ran ;;
    2) status="usage error (exit 2)" ;;
    3) status="broker not reachable (exit 3)" ;;
    124) status="killed after $((RUN_TIMEOUT + 120)) s" ;;
    *) status="exit $rc" ;;
  esac
  [ -f "$dir/results.json" ] || status="$status, no results.json"
  record "$name" "$label" "$version" "$protocol" "$status" "$((t1 - t0))" ""
}

skip() { # skip NAME LABEL REASON
  log "skipping $2: $3"
  record "$1" "$2" "-" "-" "skipped" "0" "$3"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------------------- Mosquitto
broker_mosquitto() {
  local bin
  bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  if [ ! -x "$bin" ]; then
    if [ "$(id -u)" = 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q mosquitto >&2 || true
    fi
    [ -x "$bin" ] || { skip mosquitto Mosquitto "mosquitto not installed"; return; }
  fi
  local version
  version=$("$bin" -h 2>&1 | sed -n 's/^mosquitto version \([^ ]*\).*/\1/p' | head -n1)
  run_suite mosquitto Mosquitto "${version:-?}" all \
    --spawn "$bin -c {config}" --config-template conformance/launch/mosquitto.conf.template
}

# ---------------------------------------------------------------------------- reference
broker_reference() {
  local version
  version=$("$MQTTSPEC" --version 2>/dev/null | awk '{print $2}')
  run_suite reference "mqttspec reference broker" "${version:-?}" all \
    --spawn "$MQTTSPEC broker --listen 127.0.0.1:{port}"
}

# ---------------------------------------------------------------------------- rumqttd
broker_rumqttd() {
  local root="$SCRATCH/rumqttd" bin="$SCRATCH/rumqttd/bin/rumqttd"
  if [ ! -x "$bin" ]; then
    log "cargo install rumqttd $RUMQTTD_VERSION into $root (several minutes)"
    # No default features: TLS and websockets are not needed and rustls' build is slow.
    # Not --locked: its lock file pins metrics 0.22.1, which current rustc rejects (E0521).
    if ! timeout 1500 cargo install -q rumqttd --version "$RUMQTTD_VERSION" \
      --no-default-features --root "$root" >"$SCRATCH/rumqttd-build.log" 2>&1; then
      skip rumqttd rumqttd "cargo install failed (see $SCRATCH/rumqttd-build.log)"
      return
    fi
  fi
  local tpl="$SCRATCH/templates"
  mkdir -p "$tpl"
  for v in 4 5; do
    cat >"$tpl/rumqttd-v$v.toml.template" <<EOF
id = 0
[router]
id = 0
max_connections = 10010
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10

[v$v.1]
name = "v$v-1"
listen = "127.0.0.1:{port}"
next_connection_delay_ms = 1
    [v$v.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 20480
    max_inflight_count = 100
    dynamic_filters = true
EOF
  done
  local version
  version=$("$bin" --version 2>/dev/null | awk '{print $2}')
  version=${version:-$RUMQTTD_VERSION}
  # One listener per protocol version, so one run each, each broker process on its own port.
  run_suite rumqttd-v4 "rumqttd (v4 listener)" "$version" 3.1.1 \
    --spawn "$bin -c {config}" --config-template "$tpl/rumqttd-v4.toml.template"
  # The v5 listener does not answer the 3.1.1 CONNECT that --spawn's readiness check sends
  # (it closes without CONNACK), so this one is started here and tested with --broker.
  local port pid ok=0
  port=$(free_port)
  sed "s/{port}/$port/" "$tpl/rumqttd-v5.toml.template" >"$SCRATCH/rumqttd-v5.toml"
  "$bin" -c "$SCRATCH/rumqttd-v5.toml" >"$SCRATCH/rumqttd-v5.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then ok=1; break; fi
    sleep 0.2
  done
  if [ $ok = 1 ]; then
    run_suite rumqttd-v5 "rumqttd (v5 listener)" "$version" 5 --broker "mqtt://127.0.0.1:$port"
    cp "$SCRATCH/rumqttd-v5.log" "$OUT_ABS/rumqttd-v5/broker.log"
  else
    skip rumqttd-v5 "rumqttd (v5 listener)" "did not listen on $port within 10 s"
  fi
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------- amqtt
broker_amqtt() {
  local venv="$SCRATCH/amqtt-venv"
  if [ ! -x "$venv/bin/amqtt" ]; then
    log "pip install amqtt $AMQTT_VERSION into $venv"
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q "amqtt==$AMQTT_VERSION"; } \
      >"$SCRATCH/amqtt-install.log" 2>&1; then
      skip amqtt amqtt "pip install failed (see $SCRATCH/amqtt-install.log)"
      return
    fi
  fi
  local tpl="$SCRATCH/templates"
  mkdir -p "$tpl"
  cat >"$tpl/amqtt.yaml.template" <<'EOF'
---
listeners:
  default:
    type: tcp
    bind: 127.0.0.1:{port}
plugins:
  amqtt.plugins.authentication.AnonymousAuthPlugin:
    allow_anonymous: true
EOF
  local version
  version=$("$venv/bin/amqtt" --version 2>/dev/null | tail -n1 | awk '{print $NF}')
  # amqtt implements MQTT 3.1.1 only.
  run_suite amqtt amqtt "${version:-$AMQTT_VERSION}" 3.1.1 \
    --spawn "$venv/bin/amqtt -c {config}" --config-template "$tpl/amqtt.yaml.template"
}

# ---------------------------------------------------------------------------- ejabberd
broker_ejabberd() {
  if ! command -v ejabberdctl >/dev/null; then
    if [ "$(id -u)" = 0 ] && [ "${EJABBERD_INSTALL:-1}" = 1 ]; then
      # The only way to get ejabberd here is Debian's package: a system-wide install.
      log "apt-get install ejabberd (system-wide)"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ejabberd \
        >"$SCRATCH/ejabberd-install.log" 2>&1 || true
    fi
    command -v ejabberdctl >/dev/null || {
      skip ejabberd ejabberd "ejabberd not installed (needs root for apt-get)"
      return
    }
  fi
  if [ "$(id -u)" != 0 ]; then
    skip ejabberd ejabberd "ejabberdctl must run as root or the ejabberd user"
    return
  fi
  local dir="$SCRATCH/ejabberd" tpl="$SCRATCH/templates"
  mkdir -p "$dir/spool" "$dir/logs" "$tpl"
  chown -R ejabberd: "$dir"
  # Distribution on a fixed loopback port, no epmd: nothing listens beyond 127.0.0.1 and
  # nothing is left running afterwards.
  cat >"$dir/ejabberdctl.cfg" <<EOF
ERLANG_NODE=mqttspec@localhost
INET_DIST_INTERFACE=127.0.0.1
ERL_DIST_PORT=$(free_port)
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"
EOF
  cat >"$tpl/ejabberd.yml.template" <<'EOF'
hosts:
  - localhost
loglevel: warning
certfiles: []
auth_method: internal
listen:
  -
    port: {port}
    ip: "127.0.0.1"
    module: mod_mqtt
    backlog: 1000
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
modules:
  mod_mqtt: {}
EOF
  # ejabberdctl runs sh -> erl and does not pass SIGTERM on; this wrapper puts it in a
  # session of its own and stops that whole process group when mqttspec stops the wrapper.
  cat >"$dir/foreground.sh" <<'EOF'
#!/usr/bin/env bash
# foreground.sh CONFIG DIR
set -u
cfg=$1 dir=$2
install -m 644 "$cfg" "$dir/ejabberd.yml"
# As the ejabberd user already (setpriv execs, no fork): as root, ejabberdctl would go through
# `su -c`, which starts a new session that the process-group kill below would not reach.
setsid setpriv --reuid=ejabberd --regid=ejabberd --init-groups env HOME=/var/lib/ejabberd \
  ejabberdctl --config "$dir/ejabberd.yml" --ctl-config "$dir/ejabberdctl.cfg" \
  --spool "$dir/spool" --logs "$dir/logs" foreground &
pid=$!
stop() {
  kill -TERM -- "-$pid" 2>/dev/null
  for _ in $(seq 40); do kill -0 -- "-$pid" 2>/dev/null || exit 0; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null
  exit 0
}
trap stop TERM INT
wait "$pid"
EOF
  local ctl=(ejabberdctl --config "$dir/ejabberd.yml" --ctl-config "$dir/ejabberdctl.cfg"
    --spool "$dir/spool" --logs "$dir/logs")
  # ejabberd refuses an MQTT login without credentials: register user@localhost once (kept
  # in the Mnesia spool, which the spawned runs reuse).
  log "ejabberd: registering user@localhost"
  sed "s/{port}/$(free_port)/" "$tpl/ejabberd.yml.template" >"$dir/setup.yml"
  bash "$dir/foreground.sh" "$dir/setup.yml" "$dir" >"$dir/setup.log" 2>&1 &
  local fg=$! ok=0
  for _ in $(seq 60); do
    if "${ctl[@]}" status >/dev/null 2>&1; then ok=1; break; fi
    sleep 1
  done
  if [ $ok = 1 ]; then
    "${ctl[@]}" register user localhost pass >&2 2>&1 || true # "already registered" is fine
  fi
  kill -TERM "$fg" 2>/dev/null || true
  wait "$fg" 2>/dev/null || true
  if [ $ok = 0 ]; then
    skip ejabberd ejabberd "ejabberd did not start within 60 s (see $dir/setup.log)"
    return
  fi
  local version
  version=$(dpkg-query -W -f '${Version}' ejabberd 2>/dev/null || echo '?')
  run_suite ejabberd "ejabberd mod_mqtt" "$version" all \
    --spawn "bash $dir/foreground.sh {config} $dir" --spawn-timeout 60 \
    --config-template "$tpl/ejabberd.yml.template" \
    --username user@localhost --password pass
}

# ---------------------------------------------------------------------------- rmqtt
broker_rmqtt() {
  skip rmqtt rmqtt "opt-in (RMQTT=1) but not implemented by this script: no package here"
}

for b in $BROKERS; do
  if declare -F "broker_$b" >/dev/null; then
    "broker_$b" || skip "$b" "$b" "setup failed (exit $?)"
  else
    skip "$b" "$b" "unknown broker"
  fi
done

# ---------------------------------------------------------------------------- matrix
inputs=() labels=()
while IFS=$'\t' read -r name label _version _protocol status _secs _note; do
  if [ -f "$OUT_ABS/$name/results.json" ]; then
    inputs+=("$OUT_ABS/$name/results.json")
    labels+=("$label")
  fi
done <"$RUNS"
if [ ${#inputs[@]} -gt 0 ]; then
  log "matrix of ${#inputs[@]} runs -> $OUT/matrix.html"
  joined=$(IFS=,; echo "${labels[*]}")
  "$MQTTSPEC" report "${inputs[@]}" --labels "$joined" -o "$OUT_ABS/matrix.html"
fi

# ---------------------------------------------------------------------------- summary
python3 - "$RUNS" "$OUT_ABS" >"$OUT_ABS/SUMMARY.md" <<'EOF'
import json, os, sys
from collections import Counter
runs, out = sys.argv[1], sys.argv[2]
print("# Real brokers: mqttspec summary\n")
print("Written by `reports/real-brokers.sh`. One row per broker and protocol version; counts of")
print("cases by outcome. `seconds` is the wall time of the whole run (all its versions).\n")
print("| broker | version | date (UTC) | protocol | pass | fail | warn | skip | error | timeout | total | seconds |")
print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
notes = []
for line in open(runs):
    name, label, version, protocol, status, secs, note = line.rstrip("\n").split("\t")
    path = os.path.join(out, name, "results.json")
    if not os.path.exists(path):
        notes.append(f"- **{label}**: not run ({note or status}).")
        continue
    r = json.load(open(path))
    date = r.get("started_at", "?").replace("T", " ").rstrip("Z")
    by = {}
    for c in r["cases"]:
        by.setdefault(c["protocol"], Counter())[c["outcome"]] += 1
    for proto in sorted(by):
        k = by[proto]
        print(f"| {label} | {version} | {date} | {proto} | {k['pass']} | {k['fail']} | {k['warn']} "
              f"| {k['skipped'] + k['skip']} | {k['error']} | {k['timeout']} | {sum(k.values())} | {secs} |")
    if status != "ran":
        notes.append(f"- **{label}**: {status}.")
if notes:
    print("\n" + "\n".join(notes))
EOF
cat "$OUT_ABS/SUMMARY.md"
