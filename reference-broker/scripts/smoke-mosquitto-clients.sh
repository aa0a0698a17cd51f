#!/usr/bin/env bash
# Smoke-tests the mqttspec-broker binary with Debian's mosquitto-clients, an independent
# client implementation: QoS 0/1/2 publish/subscribe, retained messages and wills, under
# MQTT 3.1.1 and 5.0. Usage: smoke-mosquitto-clients.sh PATH/TO/mqttspec-broker
set -euo pipefail
broker_bin=${1:?usage: $0 PATH/TO/mqttspec-broker}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Start the broker on a free port and read the address it prints.
"$broker_bin" --listen 127.0.0.1:0 >"$work/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  grep -q "listening on" "$work/broker.log" && break
  sleep 0.05
done
port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/broker.log")
[ -n "$port" ] || { echo "broker did not start"; cat "$work/broker.log"; exit 1; }
echo "broker on port $port"

fail() { echo "FAIL: $*"; exit 1; }

# Waits (bounded) until FILE contains PATTERN.
wait_for() {
  local file=$1 pattern=$2
  for _ in $(seq 200); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.025
  done
  fail "timed out waiting for '$pattern' in $file: $(cat "$file" 2>/dev/null)"
}

passed=0
for v in mqttv311 mqttv5; do
  for q in 0 1 2; do
    topic="smoke/$v/q$q"
    out="$work/sub-$v-$q"
    # -d prints the SUBACK: the subscription exists before we publish.
    timeout 10 stdbuf -oL -eL mosquitto_sub -h 127.0.0.1 -p "$port" -V "$v" -q "$q" -t "$topic" -C 1 -v -d >"$out" 2>&1 &
    sub=$!
    wait_for "$out" "SUBACK"
    timeout 10 mosquitto_pub -h 127.0.0.1 -p "$port" -V "$v" -q "$q" -t "$topic" -m "payload-$q"
    wait "$sub" || fail "$v QoS $q: subscriber exited with an error: $(cat "$out")"
    grep -q "^$topic payload-$q$" "$out" || fail "$v QoS $q: message not received: $(cat "$out")"
    passed=$((passed + 1))
  done

  # Retained: published first, received by a later subscriber with the retain flag.
  topic="smoke/$v/retained"
  timeout 10 mosquitto_pub -h 127.0.0.1 -p "$port" -V "$v" -q 1 -r -t "$topic" -m kept
  got=$(timeout 10 stdbuf -oL -eL mosquitto_sub -h 127.0.0.1 -p "$port" -V "$v" -t "$topic" -C 1 -F '%r %t %p')
  [ "$got" = "1 $topic kept" ] || fail "$v retained: got '$got'"
  passed=$((passed + 1))

  # Will: a client that disappears without DISCONNECT has its will published.
  topic="smoke/$v/will"
  out="$work/will-$v"
  timeout 10 stdbuf -oL -eL mosquitto_sub -h 127.0.0.1 -p "$port" -V "$v" -t "$topic" -C 1 -v -d >"$out" 2>&1 &
  sub=$!
  wait_for "$out" "SUBACK"
  pubout="$work/willpub-$v"
  # mosquitto_pub -l reads lines from a FIFO we hold open, so it stays connected until we
  # kill it (by PID): an abnormal close, without DISCONNECT.
  fifo="$work/fifo-$v"
  mkfifo "$fifo"
  stdbuf -oL -eL mosquitto_pub -h 127.0.0.1 -p "$port" -V "$v" -d --will-topic "$topic" --will-payload gone -t smoke/x -l <"$fifo" >"$pubout" 2>&1 &
  willpub=$!
  pids+=("$willpub")
  exec 3>"$fifo"
  wait_for "$pubout" "CONNACK"
  kill -KILL "$willpub"
  wait "$willpub" 2>/dev/null || true
  exec 3>&-
  wait "$sub" || fail "$v will: subscriber exited with an error: $(cat "$out")"
  grep -q "^$topic gone$" "$out" || fail "$v will: not published: $(cat "$out")"
  passed=$((passed + 1))
done
echo "mosquitto-clients smoke test"
echo "smoke: $passed passed, 0 failed"
