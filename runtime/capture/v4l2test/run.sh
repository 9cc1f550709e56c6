#!/bin/sh
# Runs the V4L2 capture test against a real V4L2 driver (vivid) inside a
# throw-away VM: qemu-system-x86_64 (software emulation, no KVM needed) boots
# the installed Debian kernel with an initramfs holding busybox, the media
# modules and static builds of the runtime/capture and runtime/capture/v4l2test
# tests (tag v4l2vm). The latter runs last: it unplugs the device under the
# tick loop (sysfs unbind, rmmod vivid) and plugs it back (insmod), the
# second time with other vivid parameters.
#
# Needs: go, gcc (cgo, static glibc), qemu-system-x86, linux-image-amd64,
# busybox-static, cpio; without one it skips (exit 0, saying why), except
# under CI=1 where it fails. Usage: run.sh [timeout-seconds, default 240]
# Exit status 0 only when the VM printed the PASS marker (or on a skip).
set -eu

TIMEOUT=${1:-240}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rssmd-v4l2.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log() { printf 'v4l2test: %s\n' "$*" >&2; }
# A missing tool skips the test, except under CI=1 where it fails.
missing() {
	if [ "${CI:-}" = 1 ]; then log "FAIL: $*"; exit 2; fi
	log "SKIP: $*"; exit 0
}
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
t0=$(now)

# The kernel: newest installed one that has both an image and modules.
KVER=
for d in $(ls -d /lib/modules/* 2>/dev/null | sort -V -r); do
	v=$(basename "$d")
	if [ -f "/boot/vmlinuz-$v" ] && [ -d "$d/kernel/drivers/media" ]; then KVER=$v; break; fi
done
[ -n "$KVER" ] || missing "no kernel with media modules in /boot and /lib/modules (install linux-image-amd64)"
KIMG=/boot/vmlinuz-$KVER
[ -r "$KIMG" ] || missing "$KIMG is not readable"
log "kernel $KVER"

for tool in qemu-system-x86_64 cpio gzip go; do
	command -v "$tool" >/dev/null || missing "no $tool on PATH"
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 || missing "need a static busybox (busybox-static)"

# The test binary: cgo (go4vl), fully static so the initramfs needs no libc.
IRD=$WORK/initramfs
mkdir -p "$IRD/bin" "$IRD/lib/modules" "$IRD/dev" "$IRD/proc" "$IRD/sys" "$IRD/tmp"
for pkg in capture capture/v4l2test; do
	bin=$IRD/bin/$(basename "$pkg").test
	(cd "$ROOT" && CGO_ENABLED=1 go test -c -tags v4l2vm -ldflags '-extldflags -static' \
		-o "$bin" "./runtime/$pkg")
	if ldd "$bin" >/dev/null 2>&1; then
		log "$(basename "$bin") is dynamically linked; the initramfs has no libc"; exit 2
	fi
done
cp "$BUSYBOX" "$IRD/bin/busybox"
t1=$(now)

# Modules in dependency order (decompressed: busybox insmod takes plain .ko).
MODS="mc videodev videobuf2-common videobuf2-v4l2 rc-core cec v4l2-dv-timings v4l2-tpg videobuf2-memops videobuf2-dma-contig videobuf2-vmalloc vivid"
for m in $MODS; do
	f=$(find "/lib/modules/$KVER/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | head -n 1)
	[ -n "$f" ] || missing "module $m not found for $KVER"
	case $f in
	*.xz) xz -dc "$f" >"$IRD/lib/modules/$m.ko" ;;
	*.zst) zstd -qdc "$f" >"$IRD/lib/modules/$m.ko" ;;
	*.gz) gzip -dc "$f" >"$IRD/lib/modules/$m.ko" ;;
	*) cp "$f" "$IRD/lib/modules/$m.ko" ;;
	esac
done

# vivid as a single webcam-type input; the unplug test reloads it once with
# a TV input instead, whose default mode differs (720 wide, interlaced).
VIVID_PARAMS="n_devs=1 node_types=0x1 num_inputs=1 input_types=0x0"
VIVID_ALT_PARAMS="n_devs=1 node_types=0x1 num_inputs=1 input_types=0x1"

cat >"$IRD/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $MODS; do
	if [ \$m = vivid ]; then
		insmod /lib/modules/vivid.ko $VIVID_PARAMS || echo "insmod vivid failed"
	else
		insmod /lib/modules/\$m.ko || echo "insmod \$m failed"
	fi
done
i=0
while [ ! -e /dev/video0 ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done
echo "RSSMD-V4L2-BOOTED uptime \$(cut -d' ' -f1 /proc/uptime)"
cd /tmp
/bin/capture.test -test.v -test.run 'V4L2VM' -test.timeout 180s
rc=\$?
# Last, as it unloads and reloads the driver.
RSSMD_VIVID_KO=/lib/modules/vivid.ko RSSMD_VIVID_PARAMS="$VIVID_PARAMS" RSSMD_VIVID_ALT_PARAMS="$VIVID_ALT_PARAMS" \
	/bin/v4l2test.test -test.v -test.run 'V4L2VM' -test.timeout 120s || rc=\$((rc + 100))
if [ \$rc -eq 0 ]; then echo "RSSMD-V4L2-PASS"; else echo "RSSMD-V4L2-FAIL rc=\$rc"; fi
echo "RSSMD-V4L2-DONE uptime \$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
INIT
chmod +x "$IRD/init"
(cd "$IRD" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initramfs.cpio.gz"
t2=$(now)
log "built test binary in $(dt "$t0" "$t1")s, initramfs ($(du -h "$WORK/initramfs.cpio.gz" | cut -f1)) in $(dt "$t1" "$t2")s"

# Boot the uncompressed kernel when we can extract it (the idea of the
# kernel's scripts/extract-vmlinux: find the compressed payload by its magic
# and decompress it): under emulation this skips the in-guest decompression.
# It needs CONFIG_PVH (qemu boots an ELF vmlinux through the PVH entry).
# V4L2TEST_BOOT=bzimage forces the compressed image.
extract_vmlinux() {
	for spec in 'fd377a585a00:xz -dc --single-stream' '1f8b0800:gzip -dc' '28b52ffd:zstd -qdc' '02214c18:lz4 -dc'; do
		magic=${spec%%:*}
		cmd=${spec#*:}
		command -v "${cmd%% *}" >/dev/null || continue
		pat=$(printf '%s' "$magic" | sed 's/../\\x&/g')
		for off in $(LC_ALL=C grep -aboP "$pat" "$1" 2>/dev/null | cut -d: -f1 | head -n 3); do
			tail -c "+$((off + 1))" "$1" | $cmd >"$2" 2>/dev/null
			if [ "$(head -c 4 "$2" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then return 0; fi
		done
	done
	return 1
}
BOOT=${V4L2TEST_BOOT:-auto}
if [ "$BOOT" != bzimage ] && grep -qs '^CONFIG_PVH=y' "/boot/config-$KVER" && extract_vmlinux "$KIMG" "$WORK/vmlinux"; then
	KIMG=$WORK/vmlinux
	log "booting the extracted vmlinux ($(du -h "$KIMG" | cut -f1))"
elif [ "$BOOT" = vmlinux ]; then
	log "could not extract vmlinux from $KIMG"; exit 2
fi
t2=$(now)

# Software emulation by default: a /dev/kvm node may exist where KVM does not
# work (nested virtualisation), and the VM then hangs in the BIOS.
ACCEL=${V4L2TEST_ACCEL:-tcg}
CONSOLE=$WORK/console.log
set +e
timeout "$TIMEOUT" qemu-system-x86_64 -accel "$ACCEL" -m 768 -smp 1 -nographic -no-reboot \
	-kernel "$KIMG" -initrd "$WORK/initramfs.cpio.gz" \
	-append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init" </dev/null >"$CONSOLE" 2>&1
qrc=$?
set -e
t3=$(now)
tr -d '\r' <"$CONSOLE" | grep -av '^\s*$' | tail -n 80 >&2
log "VM ($ACCEL) ran $(dt "$t2" "$t3")s, total $(dt "$t0" "$t3")s"
if grep -aq 'RSSMD-V4L2-PASS' "$CONSOLE"; then
	log "PASS"
	exit 0
fi
if [ $qrc -eq 124 ]; then log "FAIL: timed out after ${TIMEOUT}s"; else log "FAIL (qemu exit $qrc)"; fi
exit 1
