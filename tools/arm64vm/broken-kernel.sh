#!/bin/sh
# Proves that test-arm64-system catches a wrong arm64 kernel: builds the
# arm64 rssmd with a go build -overlay that makes the SDOT path add 1 to the
# first int32 of every full block it computes (an off-by-one in one lane, the
# kind of bug a hand-written kernel has), runs run.sh on a no-dotprod and a
# dotprod CPU, and expects it to fail on the dotprod one. The corruption lives
# only in this script's temporary overlay: the source tree and normal builds
# never contain it.
#
# Usage: broken-kernel.sh   Exit 0 when run.sh failed as expected. It builds
# the host rssmd too, from the same tree at the same moment, so the two
# binaries cannot differ by anything but the overlay.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rssmd-broken.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log() { printf 'broken-kernel: %s\n' "$*" >&2; }

SRC=$ROOT/armkernels/kernels.go
CALL='callBlock(k.kind, mr, np, ap, lda, wp, pstride, kg, \&c\[i0\*ldc+j0\], ldc\*4, corr)'
sed "s|^\(\t*\)$CALL\$|&\n\1if k.kind == kindSDOT { c[i0*ldc+j0]++ } // BROKEN on purpose|" "$SRC" >"$WORK/kernels.go"
grep -q 'BROKEN on purpose' "$WORK/kernels.go" || { log "could not find the block call in $SRC to corrupt"; exit 2; }
printf '{"Replace":{"%s":"%s"}}\n' "$SRC" "$WORK/kernels.go" >"$WORK/overlay.json"
(cd "$ROOT" && CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=${CC_ARM64:-aarch64-linux-gnu-gcc} go build \
	-overlay "$WORK/overlay.json" -tags osusergo,netgo -ldflags '-extldflags -static' \
	-o "$WORK/rssmd-arm64-broken" ./nodes/rssmd)
(cd "$ROOT" && go build -o "$WORK/rssmd-host" ./nodes/rssmd)
log "built an arm64 rssmd whose sdot kernel is off by one; running the system test"

set +e
ARM64VM_CPUS=${ARM64VM_CPUS:-"cortex-a57/neon cortex-a76/sdot"} sh "$ROOT/tools/arm64vm/run.sh" "$WORK/rssmd-host" "$WORK/rssmd-arm64-broken"
rc=$?
set -e
if [ $rc -eq 1 ]; then
	log "OK: the system test failed (exit 1) on the broken kernel, as it must"
	exit 0
fi
log "WRONG: the system test exited $rc on a broken kernel (want 1)"
exit 1
