#!/usr/bin/env bash
# Builds the Docker image `mqttspec-reference:ci` without any registry: a root filesystem
# holding the `mqttspec` binary (at /mqttspec) and the shared libraries `ldd` lists, put
# in with `docker import`. Usage: build-broker-image.sh [BINARY] [IMAGE]
set -euo pipefail
bin=${1:-target/release/mqttspec}
image=${2:-mqttspec-reference:ci}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
install -D -m 0755 "$bin" "$root/mqttspec"
# Every library the binary links, and the dynamic loader, at their own paths.
for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
  install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
done
mkdir -p "$root/tmp" "$root/etc"
echo 'root:x:0:0:root:/:/mqttspec' >"$root/etc/passwd"
tar -C "$root" -c . | docker import \
  --change 'CMD ["/mqttspec", "broker", "--listen", "0.0.0.0:1883"]' \
  --change 'EXPOSE 1883' - "$image" >/dev/null
echo "built $image from $bin"
