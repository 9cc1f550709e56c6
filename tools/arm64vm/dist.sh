#!/bin/sh
# Release archives: one tar.gz per platform with the static rssmd binary, the
# systemd units and environment file, the ROS message package (rssmd_msgs:
# msg/, srv/, package.xml, CMakeLists.txt) and the README, plus SHA256SUMS
# over the archives. Archives are reproducible for a given commit: sorted
# names, fixed owner, mtime from the last commit, gzip without a timestamp.
#
# Usage: dist.sh OUTDIR ARM64_BINARY AMD64_BINARY   (make dist builds both)
set -eu

[ $# -eq 3 ] || { echo "usage: $0 OUTDIR ARM64_BINARY AMD64_BINARY" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$1
log() { printf 'dist: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }

# The binary must be what its name says: checked from the ELF header
# (e_machine at byte 18: b700 aarch64, 3e00 x86-64), not trusted.
check_elf() {
	[ -f "$1" ] || die "$1 not found (make build-arm64 / make dist build it)"
	m=$(od -An -tx1 -j18 -N2 "$1" | tr -d ' \n')
	[ "$m" = "$2" ] || die "$1 is not a $3 ELF binary (e_machine $m)"
}
check_elf "$2" b700 arm64
check_elf "$3" 3e00 amd64

VERSION=$(git -C "$ROOT" describe --tags --always --dirty 2>/dev/null || echo unknown)
MTIME=@$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)
mkdir -p "$OUT"
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/rssmd-dist.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

archives=
for plat in arm64:$2 amd64:$3; do
	arch=${plat%%:*}
	bin=${plat#*:}
	name=rssmd-$VERSION-linux-$arch
	d=$STAGE/$name
	mkdir -p "$d/bin" "$d/systemd" "$d/rssmd_msgs"
	install -m 0755 "$bin" "$d/bin/rssmd"
	install -m 0644 "$ROOT/systemd/rssmd.service" "$ROOT/systemd/roscore.service" "$ROOT/systemd/rssmd.env" "$d/systemd/"
	install -m 0644 "$ROOT/README.md" "$d/README.md"
	# The message package as catkin sees it; its Go bindings stay in the source tree.
	(cd "$ROOT/nodes/ros/rssmd_msgs" && find . -type f ! -name '*.go' | sort) | while read -r f; do
		install -D -m 0644 "$ROOT/nodes/ros/rssmd_msgs/$f" "$d/rssmd_msgs/$f"
	done
	tar -C "$STAGE" --sort=name --owner=0 --group=0 --numeric-owner --mtime="$MTIME" -cf - "$name" |
		gzip -9n >"$OUT/$name.tar.gz"
	archives="$archives $name.tar.gz"
	log "$OUT/$name.tar.gz ($(du -h "$OUT/$name.tar.gz" | cut -f1))"
done
# shellcheck disable=SC2086 # archive names have no spaces
(cd "$OUT" && sha256sum $archives >SHA256SUMS && sha256sum -c --quiet SHA256SUMS)
log "$OUT/SHA256SUMS"
