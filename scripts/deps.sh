#!/bin/sh
# Installs every Debian package that otflow's build, tests and benchmarks need.
# Idempotent: packages already installed are left alone, and apt is only asked
# when something is missing. Runs as root, or through sudo when available.
set -eu

PKGS="
build-essential cmake ninja-build pkg-config git
clang clang-format clang-tidy cppcheck libclang-rt-14-dev
libcmocka-dev
libjson-c-dev libsimdjson-dev libyajl-dev
libyaml-dev
libuv1-dev
libhttp-parser-dev
libnghttp2-dev
zlib1g-dev libzstd-dev zstd
libcurl4-openssl-dev
libpq-dev postgresql
libpcre2-dev libssl-dev openssl
golang-go
chromium
libcrypt-dev apache2-utils
librdkafka-dev
protobuf-compiler libprotobuf-c-dev protobuf-c-compiler
curl ca-certificates
nghttp2-client
python3 python3-pip python3-venv
strace dpkg-dev
time util-linux procps iproute2
gnuplot-nox
linux-perf
"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

# Node.js for the end-to-end tests' OpenTelemetry JS SDK clients. A machine
# may already carry a Node.js build that bundles npm (Debian's npm package
# conflicts with those), so only ask Debian for what has no command yet.
# Rust for the example plugin (examples/plugins/rust): a machine may carry
# its own toolchain; otherwise Debian's.
command -v cargo >/dev/null 2>&1 || missing="$missing cargo"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
