#!/bin/sh
# The product on an emulated arm64 robot computer: boots Debian's arm64 kernel
# under qemu-system-aarch64 -M virt (software emulation) with an initramfs
# holding busybox, the V4L2 + vivid modules, the cross-built static rssmd, an
# int8 bundle and a fixed input sequence, once per CPU model. In the guest:
# `rssmd run` on the vivid camera for a few hundred ticks, then `rssmd filter`
# on the sequence with the selected kernel and with RSSMD_KERNEL=ref; both
# .npz outputs come back gzip+base64 over the serial console. On the host it
# checks, per CPU: the int8 kernel that was selected, that the run completed
# its ticks without errors, that the filter outputs are bit-identical to the
# ref kernel's and across CPUs, and that they agree with the amd64 int8
# outputs within ARM64VM_REL (docs/arm64.md explains the bound).
#
# Usage: run.sh HOST_RSSMD ARM64_RSSMD   (make test-arm64-system builds both)
# Needs: go, qemu-system-arm, apt-get + dpkg-deb (fetches linux-image-arm64
# and busybox-static:arm64 with a private apt state; the host's apt
# configuration is not touched), cpio, gzip, base64, network for apt.
# Environment (all optional):
#   ARM64VM_CPUS   "qemu-cpu/expected-kernel ..." (default below)
#   ARM64VM_MODEL  float32 model folder (default model/testdata/golden/cnnha-actions)
#   ARM64VM_SEQ    fixed sequence (default $ARM64VM_MODEL/seq.npz)
#   ARM64VM_RATE, ARM64VM_SECONDS, ARM64VM_MIN_TICKS   the guest's rssmd run
#   ARM64VM_REL    bound on max|arm64-amd64| / max|amd64| per array (1e-3)
#   ARM64VM_CACHE  download cache (default bin/arm64vm-cache); ARM64VM_REFRESH=1 re-fetches
#   ARM64VM_TIMEOUT seconds per boot (150)
# Exit status: 0 all CPUs passed, 1 a check failed, 2 setup failed.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 HOST_RSSMD ARM64_RSSMD" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
abspath() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
HOST_RSSMD=$(abspath "$1")
ARM_RSSMD=$(abspath "$2")
CPUS=${ARM64VM_CPUS:-"cortex-a57/neon cortex-a76/sdot max,pauth-impdef=on/i8mm"}
MODEL=${ARM64VM_MODEL:-$ROOT/model/testdata/golden/cnnha-actions}
SEQ=${ARM64VM_SEQ:-$MODEL/seq.npz}
RATE=${ARM64VM_RATE:-20}
SECONDS_RUN=${ARM64VM_SECONDS:-20}
MIN_TICKS=${ARM64VM_MIN_TICKS:-$((RATE * SECONDS_RUN / 2))}
REL=${ARM64VM_REL:-1e-3}
CACHE=${ARM64VM_CACHE:-$ROOT/bin/arm64vm-cache}
TIMEOUT=${ARM64VM_TIMEOUT:-150}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rssmd-arm64vm.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log() { printf 'arm64vm: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }
fail() { log "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
# extract NAME FILE: the .npz the guest printed between its NPZ markers.
extract() {
	sed -n "/^RSSMD-ARM64-NPZ-BEGIN $1\$/,/^RSSMD-ARM64-NPZ-END $1\$/p" "$con.txt" | grep -v '^RSSMD-ARM64-NPZ-' |
		base64 -d 2>/dev/null | gzip -dc >"$2" 2>/dev/null && [ -s "$2" ]
}
dt() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
t0=$(now)

for tool in qemu-system-aarch64 apt-get apt-cache dpkg-deb cpio gzip base64 go; do
	command -v "$tool" >/dev/null || die "missing $tool (see the header of $0)"
done
[ -x "$HOST_RSSMD" ] || die "$HOST_RSSMD is not executable"
[ -x "$ARM_RSSMD" ] || die "$ARM_RSSMD is not executable"
case $(od -An -tx1 -j18 -N2 "$ARM_RSSMD" | tr -d ' ') in
b700) ;; # e_machine EM_AARCH64
*) die "$ARM_RSSMD is not an arm64 ELF binary" ;;
esac
if command -v file >/dev/null && ! file -L "$ARM_RSSMD" | grep -q 'statically linked'; then
	die "$ARM_RSSMD is not statically linked; the initramfs has no libc"
fi
[ -d "$MODEL" ] || die "model folder $MODEL not found"
[ -f "$SEQ" ] || die "sequence $SEQ not found"

# 1. Debian's arm64 kernel and static busybox, fetched with a private apt state
# (lists and downloads under $CACHE) so the host needs no arm64 architecture.
# The kernel package's name carries the ABI version: resolve it from the
# linux-image-arm64 metapackage at run time.
APT_DIR=$CACHE/apt
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/archives/partial" "$CACHE/debs"
apt_opts() {
	printf '%s\n' -o APT::Architecture=arm64 -o APT::Architectures::=arm64 \
		-o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR" \
		-o "Dir::Cache::archives=$APT_DIR/archives" -o Debug::NoLocking=1 \
		-o APT::Sandbox::User=root -o Acquire::Languages=none
}
KROOT=$CACHE/root
if [ "${ARM64VM_REFRESH:-0}" = 1 ] || [ ! -f "$KROOT/.complete" ]; then
	rm -rf "$KROOT" "$CACHE/debs"/*.deb
	# shellcheck disable=SC2046 # apt_opts prints one word per line on purpose
	apt-get -qq $(apt_opts) update >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; die "apt-get update (arm64) failed"; }
	# shellcheck disable=SC2046
	KPKG=$(apt-cache $(apt_opts) depends linux-image-arm64 2>/dev/null |
		awk '$1 ~ /Depends:/ && $2 ~ /^linux-image-[0-9].*-arm64$/ { print $2; exit }')
	[ -n "$KPKG" ] || die "could not resolve linux-image-arm64 to a kernel package"
	log "fetching $KPKG and busybox-static (arm64)"
	# shellcheck disable=SC2046
	(cd "$CACHE/debs" && apt-get -qq $(apt_opts) download "$KPKG" busybox-static >"$WORK/apt.log" 2>&1) ||
		{ cat "$WORK/apt.log" >&2; die "apt-get download $KPKG busybox-static failed"; }
	mkdir -p "$KROOT"
	for deb in "$CACHE/debs"/*.deb; do dpkg-deb -x "$deb" "$KROOT"; done
	touch "$KROOT/.complete"
fi
KIMG=$(ls "$KROOT"/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$KIMG" ] || die "no vmlinuz in the extracted kernel package"
KVER=${KIMG##*/vmlinuz-}
[ -x "$KROOT/bin/busybox" ] || die "no busybox in the extracted busybox-static package"
t1=$(now)
log "kernel $KVER ready in $(dt "$t0" "$t1")s"

# 2. The int8 bundle (calibrated on the host) and the amd64 reference outputs.
"$HOST_RSSMD" calibrate --model "$MODEL" --data "$SEQ" --out "$WORK/m.int8.rssm" >"$WORK/calibrate.log" 2>&1 ||
	{ cat "$WORK/calibrate.log" >&2; die "calibration on the host failed"; }
"$HOST_RSSMD" filter --model "$WORK/m.int8.rssm" --in "$SEQ" --out "$WORK/amd64.npz" >"$WORK/host-filter.log" 2>&1 ||
	{ cat "$WORK/host-filter.log" >&2; die "host filter failed"; }
HOSTK=$(sed -n 's/.*int8 kernels selected"* kernel=\([a-z0-9]*\).*/\1/p' "$WORK/host-filter.log" | head -n 1)
(cd "$ROOT" && go build -o "$WORK/npzcmp" ./tools/arm64vm/npzcmp) || die "building npzcmp failed"

# 3. The initramfs, shared by every boot.
IRD=$WORK/initramfs
mkdir -p "$IRD/bin" "$IRD/lib/modules" "$IRD/dev" "$IRD/proc" "$IRD/sys" "$IRD/tmp" "$IRD/data"
cp "$KROOT/bin/busybox" "$IRD/bin/busybox"
cp "$ARM_RSSMD" "$IRD/bin/rssmd"
cp "$WORK/m.int8.rssm" "$IRD/data/m.int8.rssm"
cp "$SEQ" "$IRD/data/seq.npz"
# The amd64 harness's list and order (runtime/capture/v4l2test/run.sh).
MODS="mc videodev videobuf2-common videobuf2-v4l2 rc-core cec v4l2-dv-timings v4l2-tpg videobuf2-memops videobuf2-dma-contig videobuf2-vmalloc vivid"
for m in $MODS; do
	f=$(find "$KROOT/lib/modules/$KVER/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | head -n 1)
	[ -n "$f" ] || die "module $m not found for $KVER"
	case $f in
	*.xz) xz -dc "$f" >"$IRD/lib/modules/$m.ko" ;;
	*.zst) zstd -qdc "$f" >"$IRD/lib/modules/$m.ko" ;;
	*.gz) gzip -dc "$f" >"$IRD/lib/modules/$m.ko" ;;
	*) cp "$f" "$IRD/lib/modules/$m.ko" ;;
	esac
done
cat >"$IRD/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $MODS; do
	if [ \$m = vivid ]; then
		insmod /lib/modules/vivid.ko n_devs=1 node_types=0x1 num_inputs=1 input_types=0x0 || echo "insmod vivid failed"
	else
		insmod /lib/modules/\$m.ko || echo "insmod \$m failed"
	fi
done
i=0
while [ ! -e /dev/video0 ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done
echo "RSSMD-ARM64-BOOTED uptime \$(cut -d' ' -f1 /proc/uptime)"
grep -m1 '^Features' /proc/cpuinfo
cd /tmp
echo "RSSMD-ARM64-RUN-BEGIN"
/bin/rssmd run --source v4l2:/dev/video0 --model /data/m.int8.rssm --width 320 --height 180 --fps 30 --rate $RATE --duration ${SECONDS_RUN}s --decode-every 5 --metrics-addr off 2>&1
echo "RSSMD-ARM64-RUN-RC \$?"
echo "RSSMD-ARM64-FILTER-BEGIN"
/bin/rssmd filter --model /data/m.int8.rssm --in /data/seq.npz --out /tmp/out.npz 2>&1
echo "RSSMD-ARM64-FILTER-RC \$?"
echo "RSSMD-ARM64-REF-BEGIN"
RSSMD_KERNEL=ref /bin/rssmd filter --model /data/m.int8.rssm --in /data/seq.npz --out /tmp/ref.npz 2>&1
echo "RSSMD-ARM64-REF-RC \$?"
for f in out ref; do
	echo "RSSMD-ARM64-NPZ-BEGIN \$f"
	gzip -c /tmp/\$f.npz | base64
	echo "RSSMD-ARM64-NPZ-END \$f"
done
echo "RSSMD-ARM64-DONE uptime \$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
INIT
chmod +x "$IRD/init"
(cd "$IRD" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initramfs.cpio.gz"
t2=$(now)
log "host reference (int8, $HOSTK) and initramfs ($(du -h "$WORK/initramfs.cpio.gz" | cut -f1)) in $(dt "$t1" "$t2")s"

# 4. One boot per CPU model; every check names the CPU it failed on.
FIRST=
for spec in $CPUS; do
	cpu=${spec%/*}
	want=${spec##*/}
	tag=$(printf '%s' "$cpu" | cut -d, -f1)
	con=$WORK/console-$tag.log
	tb=$(now)
	set +e
	timeout "$TIMEOUT" qemu-system-aarch64 -M virt -cpu "$cpu" -m 1024 -smp 1 -nographic -no-reboot \
		-kernel "$KIMG" -initrd "$WORK/initramfs.cpio.gz" \
		-append "console=ttyAMA0 quiet loglevel=3 panic=-1 rdinit=/init" </dev/null >"$con" 2>&1
	qrc=$?
	set -e
	te=$(now)
	tr -d '\r' <"$con" >"$con.txt"
	sed -n '/RSSMD-ARM64-BOOTED/,/RSSMD-ARM64-NPZ-BEGIN/p' "$con.txt" | grep -v NPZ-BEGIN >&2 || true
	log "[$tag] VM ran $(dt "$tb" "$te")s (qemu exit $qrc)"
	if ! grep -q 'RSSMD-ARM64-DONE' "$con.txt"; then
		tail -n 40 "$con.txt" >&2
		[ $qrc -eq 124 ] && fail "[$tag] the VM timed out after ${TIMEOUT}s"
		fail "[$tag] the VM stopped before the end of the test (qemu exit $qrc)"
	fi
	sed -n '/RSSMD-ARM64-RUN-BEGIN/,/RSSMD-ARM64-RUN-RC/p' "$con.txt" >"$WORK/run-$tag.log"
	sed -n '/RSSMD-ARM64-FILTER-BEGIN/,/RSSMD-ARM64-FILTER-RC/p' "$con.txt" >"$WORK/filter-$tag.log"
	sed -n '/RSSMD-ARM64-REF-BEGIN/,/RSSMD-ARM64-REF-RC/p' "$con.txt" >"$WORK/ref-$tag.log"

	# The kernel path each command selected.
	for part in run filter; do
		got=$(sed -n 's/.*int8 kernels selected"* kernel=\([a-z0-9]*\).*/\1/p' "$WORK/$part-$tag.log" | head -n 1)
		[ "$got" = "$want" ] || fail "[$tag] rssmd $part selected int8 kernel '${got:-none}', want '$want'"
	done
	grep -Eq 'int8 kernels selected"? kernel=ref source=RSSMD_KERNEL' "$WORK/ref-$tag.log" ||
		fail "[$tag] RSSMD_KERNEL=ref did not select the reference kernel"

	# The run: exit status 0, enough ticks, frames arriving, none refused.
	rrc=$(sed -n 's/^RSSMD-ARM64-RUN-RC \([0-9]*\)$/\1/p' "$WORK/run-$tag.log")
	[ "$rrc" = 0 ] || fail "[$tag] rssmd run exited with status '${rrc:-?}'"
	set -- $(sed -n 's/^ticks \([0-9]*\) in [^:]*: \([0-9]*\) steps, \([0-9]*\) without a new frame, \([0-9]*\) deadline misses.*/\1 \2 \3 \4/p' "$WORK/run-$tag.log")
	[ $# -eq 4 ] || fail "[$tag] no tick summary in rssmd run's output"
	ticks=$1 steps=$2 noframe=$3 misses=$4
	refused=$(sed -n 's/^frames: [0-9]* stale, \([0-9]*\) refused.*/\1/p' "$WORK/run-$tag.log")
	[ "$ticks" -ge "$MIN_TICKS" ] || fail "[$tag] $ticks ticks completed, want at least $MIN_TICKS ($RATE Hz for ${SECONDS_RUN}s)"
	[ "$steps" -ge $((ticks / 2)) ] || fail "[$tag] only $steps of $ticks ticks filtered a frame ($noframe without a new frame)"
	[ "${refused:-x}" = 0 ] || fail "[$tag] ${refused:-?} camera frames were refused"
	log "[$tag] run: $ticks ticks, $steps steps, $noframe without a new frame, $misses deadline misses (accepted under emulation)"

	# The filter: exit status 0 with the selected and the reference kernel,
	# both outputs back over the console intact.
	for part in filter ref; do
		P=$(echo "$part" | tr a-z A-Z)
		rc=$(sed -n "s/^RSSMD-ARM64-$P-RC \([0-9]*\)\$/\1/p" "$con.txt")
		[ "$rc" = 0 ] || { sed -n "/RSSMD-ARM64-$P-BEGIN/,/RSSMD-ARM64-$P-RC/p" "$con.txt" >&2; fail "[$tag] rssmd filter ($part) exited with status '${rc:-?}'"; }
	done
	out=$WORK/arm64-$tag.npz
	ref=$WORK/arm64-ref-$tag.npz
	extract out "$out" || fail "[$tag] the output .npz did not come back intact over the console"
	extract ref "$ref" || fail "[$tag] the ref-kernel output .npz did not come back intact over the console"

	# The sharp check: same machine, same float epilogue, exact int32 products,
	# so the SIMD kernel's outputs must equal the pure-Go reference kernel's.
	"$WORK/npzcmp" -exact "$ref" "$out" >"$WORK/exact.log" 2>&1 ||
		{ cat "$WORK/exact.log" >&2; fail "[$tag] arm64 $want outputs are not bit-identical to the arm64 ref kernel's"; }
	log "[$tag] $want outputs bit-identical to the ref kernel's"
	if [ -n "$FIRST" ]; then
		"$WORK/npzcmp" -exact "$FIRST" "$out" >"$WORK/exact.log" 2>&1 ||
			{ cat "$WORK/exact.log" >&2; fail "[$tag] arm64 $want outputs are not bit-identical to the first CPU's"; }
		log "[$tag] bit-identical to the first CPU's outputs"
	fi
	# Across architectures only the float epilogue may differ (Go fuses
	# multiply-adds on arm64, not on amd64): ulp-level, bounded by REL.
	log "[$tag] filter outputs, arm64 ($want) vs amd64 ($HOSTK), bound $REL of each array's largest magnitude:"
	"$WORK/npzcmp" -rel "$REL" "$WORK/amd64.npz" "$out" >&2 ||
		fail "[$tag] arm64 $want filter outputs disagree with amd64 $HOSTK beyond $REL"
	[ -n "$FIRST" ] || FIRST=$out
	log "[$tag] PASS"
done
log "PASS: $CPUS in $(dt "$t0" "$(now)")s"
