#!/bin/sh
# Runs the armkernels tests for arm64 under qemu user emulation, once per ISA
# level, and fails if the kernel meant for that level is not the one picked:
#   cortex-a57: ARMv8.0, NEON only     -> neon
#   cortex-a76: ARMv8.2 + dot product  -> sdot
#   max:        everything qemu knows  -> i8mm (SMMLA)
# Needs qemu-user-static (qemu-aarch64-static). Run from anywhere.
set -eu
cd "$(dirname "$0")"
QEMU=${QEMU:-qemu-aarch64-static}
bin=$(mktemp -d)/armkernels.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
CGO_ENABLED=0 GOARCH=arm64 go test -c -o "$bin" .
for pair in cortex-a57:neon cortex-a76:sdot max:i8mm; do
	cpu=${pair%%:*}
	want=${pair#*:}
	echo "== qemu -cpu $cpu, expecting $want"
	RSSMD_EXPECT_KERNEL=$want "$QEMU" -cpu "$cpu" "$bin" -test.count=1 "$@"
done
