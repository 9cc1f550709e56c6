#!/bin/sh
# Instructions per int8 filter step on each arm64 kernel path, counted by
# qemu-aarch64 (user mode) with our TCG plugin (insncount/insncount.c): a
# portable, repeatable measure where timing under emulation means nothing.
# Per step = (insns(N2) - insns(N1)) / (N2 - N1) of tools/arm64vm/stepcount,
# which cancels loading and start-up. Printed next to the model's MACs per
# filter step (rssmd inspect). gemm-insns counts only the generated block
# kernels (armkernels.gemm{NEON,SDOT,I8MM}_*): what the kernel path changes;
# other-insns the rest. After each row, the INSNS_TOP (default 12) symbols that
# run the most instructions per step (the plugin's per-symbol counts, from the
# binary's symbol table; the block kernels summed as one row).
# INSNS_MODES (default "filter") also counts "prior" steps and "decode"s.
#
# Usage: insns.sh HOST_RSSMD [MODEL_DIR [SEQ]]
# Needs: go, gcc, qemu-user (the dynamic qemu-aarch64; the static one cannot
# load plugins). Instruction counts are not cycles: see docs/arm64.md.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 HOST_RSSMD [MODEL_DIR [SEQ]]" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HOST_RSSMD=$1
MODEL=${2:-$ROOT/model/testdata/golden/cnnha-actions}
SEQ=${3:-$MODEL/seq.npz}
CPUS=${INSNS_CPUS:-"cortex-a57 cortex-a76 max"}
N1=${INSNS_N1:-50}
N2=${INSNS_N2:-150}
MODES=${INSNS_MODES:-filter}
TOP=${INSNS_TOP:-12}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/rssmd-insns.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
die() { printf 'insns: %s\n' "$*" >&2; exit 2; }

for tool in qemu-aarch64 gcc go; do
	command -v "$tool" >/dev/null || die "missing $tool (packages qemu-user, gcc)"
done
[ "$N2" -gt "$N1" ] || die "INSNS_N2 must exceed INSNS_N1"
gcc -shared -fPIC -O2 -Wall -o "$WORK/insncount.so" "$ROOT/tools/arm64vm/insncount/insncount.c"
(cd "$ROOT" && CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -o "$WORK/stepcount" ./tools/arm64vm/stepcount)
"$HOST_RSSMD" calibrate --model "$MODEL" --data "$SEQ" --out "$WORK/m.int8.rssm" >"$WORK/cal.log" 2>&1 ||
	{ cat "$WORK/cal.log" >&2; die "calibration failed"; }
# The address range of the generated block kernels (leaf assembly, laid out
# together by the linker): checked to hold nothing else.
go tool nm -size -sort address "$WORK/stepcount" | awk '$3 == "T" || $3 == "t"' >"$WORK/syms"
HEX='function hex(h,  i, v) { v = 0; h = tolower(h); for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return v }'
RANGE=$(awk "$HEX"'
	$4 ~ /armkernels\.gemm(NEON|SDOT|I8MM)_[0-9]+x[0-9]+/ {
		a = hex($1); if (lo == "" || a < lo) lo = a; e = a + $2; if (e > hi) hi = e; n++ }
	END { if (n) printf "%d %d %d", lo, hi, n }' "$WORK/syms" 2>/dev/null || true)
[ -n "$RANGE" ] || die "no block kernels found in stepcount's symbols"
set -- $RANGE
LO=$1 HI=$2 NK=$3
inside=$(awk -v lo="$LO" -v hi="$HI" "$HEX"'{ a = hex($1) } a >= lo && a < hi' "$WORK/syms" | wc -l)
[ "$inside" -eq "$NK" ] || die "the block kernels are not contiguous ($inside symbols in their range, $NK kernels)"
PLUGIN="$WORK/insncount.so,lo=$(printf '%#x' "$LO"),hi=$(printf '%#x' "$HI"),syms=$WORK/syms"
MACS=$("$HOST_RSSMD" inspect "$MODEL" | sed -n 's/.*filter step \([0-9]*\).*/\1/p' | head -n 1)
[ -n "$MACS" ] || die "no MAC count from rssmd inspect"

# count CPU N MODE: "all in-kernels" guest instructions of stepcount -n N; the
# per-symbol counts stay in $WORK/out-CPU-MODE-N.
count() {
	o="$WORK/out-$1-$3-$2"
	GOMAXPROCS=1 qemu-aarch64 -cpu "$1" -plugin "$PLUGIN" -d plugin \
		"$WORK/stepcount" -model "$WORK/m.int8.rssm" -seq "$SEQ" -n "$2" -mode "$3" >"$o" 2>&1 ||
		{ cat "$o" >&2; die "stepcount failed on $1"; }
	echo "$(sed -n 's/^insns \([0-9]*\)$/\1/p' "$o") $(sed -n 's/^insns_in_range \([0-9]*\)$/\1/p' "$o")"
}
# symbols CPU MODE: the TOP symbols by instructions per step, by difference.
symbols() {
	awk -v n=$((N2 - N1)) -v top="$TOP" '
		FNR == 1 { f++ }
		$1 == "sym" { name = $3; if (name ~ /armkernels\.gemm(NEON|SDOT|I8MM)_/) name = "armkernels.gemm*_* (block kernels)"
		              c[name] += (f == 1 ? -$2 : $2) }
		END { for (s in c) if (c[s] > 0) printf "%.0f %s\n", c[s] / n, s }' \
		"$WORK/out-$1-$2-$N1" "$WORK/out-$1-$2-$N2" | sort -rn | head -n "$TOP" |
		awk '{ printf "    %10d  %s\n", $1, $2 }'
}
echo "int8 step of $MODEL ($MACS MACs per filter step); instructions per step by difference of $N2 and $N1 steps"
printf '%-7s %-11s %-18s %12s %10s %12s %12s %10s\n' mode cpu kernel insns/step MACs/insn gemm-insns other-insns MACs/gemm-insn
for mode in $MODES; do
	for cpu in $CPUS; do
		a=$(count "$cpu" "$N1" "$mode")
		b=$(count "$cpu" "$N2" "$mode")
		k=$(sed -n 's/.* name=\([a-z0-9+]*\).*/\1/p' "$WORK/out-$cpu-$mode-$N2" | head -n 1)
		m=$MACS
		[ "$mode" = filter ] || m=0 # MACs known for the filter step only
		echo "$a $b" | awk -v mo="$mode" -v c="$cpu" -v k="$k" -v n=$((N2 - N1)) -v m="$m" \
			'{ s = ($3 - $1) / n; g = ($4 - $2) / n
			   printf "%-7s %-11s %-18s %12.0f %10.3f %12.0f %12.0f %10.2f\n", mo, c, k, s, m / s, g, s - g, (g > 0 ? m / g : 0) }'
		symbols "$cpu" "$mode"
	done
done
