#!/bin/sh
# Builds the otflow Debian package from a build directory's install tree
# (cmake --install with prefix /usr into a staging root, then dpkg-deb).
# usage: scripts/make-deb.sh [BUILD_DIR] [OUT_DIR]   (default: build build/deb)
# Prints the path of the .deb. Depends: computed by dpkg-shlibdeps from the
# installed ELF files (the Debian 12 packages they link), a fixed list when
# dpkg-shlibdeps is missing.
set -eu
build=${1:-build}
out=${2:-$build/deb}
bin="$build/otflow"
[ -x "$bin" ] || { echo "make-deb: $bin not built (make build)" >&2; exit 1; }
version=$("$bin" --version | sed -n '1s/^otflow //p')
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
DESTDIR="$root" cmake --install "$build" --prefix /usr >/dev/null
# A conffile the example unit reads; the pristine copy stays in /usr/share/otflow.
mkdir -p "$root/etc/otflow" "$root/DEBIAN"
cp "$root/usr/share/otflow/otflow.yaml" "$root/etc/otflow/otflow.yaml"
# Debug info stays in the build tree.
strip --strip-debug "$root/usr/bin/otflow" "$root"/usr/lib/*/libotmmap.so.*.*.* \
	"$root"/usr/lib/libotmmap.so.*.*.* 2>/dev/null || true
# The OTLP/JSON parser module (otflow loads it at the first JSON request).
find "$root/usr/lib" -name libotflow-json.so -exec strip --strip-debug {} +
find "$root" -name __pycache__ -prune -exec rm -rf {} +
depends=""
if command -v dpkg-shlibdeps >/dev/null 2>&1; then
	mkdir -p "$stage/src/debian"
	: > "$stage/src/debian/control"
	elves=$(find "$root/usr" -type f \( -name otflow -o -name 'libotmmap.so.*' \
		-o -name libotflow-json.so \))
	depends=$(cd "$stage/src" && dpkg-shlibdeps -O $elves 2>/dev/null |
		sed -n 's/^shlibs:Depends=//p') || depends=""
fi
[ -n "$depends" ] || depends="libc6, libjson-c5, libyaml-0-2, libuv1, zlib1g, libzstd1, \
libnghttp2-14, libpq5, libhttp-parser2.9, libcurl4, libsimdjson14, libstdc++6"
# libcurl, libpq, librdkafka, OpenSSL and libcrypt are loaded at first use (dlopen,
# src/core/lazylib.h), which dpkg-shlibdeps cannot see.
for p in libcurl4 libpq5 librdkafka1 libssl3 libcrypt1; do
	printf '%s\n' "$depends" | grep -q "\b$p\b" || depends="$depends, $p"
done
size=$(du -sk "$root/usr" "$root/etc" | awk '{s += $1} END {print s}')
cat > "$root/DEBIAN/control" <<C
Package: otflow
Version: $version
Architecture: $arch
Maintainer: otflow developers <otflow@localhost>
Installed-Size: $size
Depends: $depends
Recommends: python3
Section: net
Priority: optional
Homepage: https://opentelemetry.io/
Description: OpenTelemetry telemetry pipeline (Collector-compatible)
 otflow receives, processes and exports OpenTelemetry traces, metrics and
 logs, configured like the OpenTelemetry Collector. Also ships libotmmap
 (an SDK writing telemetry into a memory-mapped file that otflow drains),
 its header, pkg-config file and Python binding (otmm), a default
 configuration in /etc/otflow and an example systemd unit in
 /usr/share/otflow.
C
echo /etc/otflow/otflow.yaml > "$root/DEBIAN/conffiles"
mkdir -p "$out"
deb="$out/otflow_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
