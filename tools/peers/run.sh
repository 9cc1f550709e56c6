#!/bin/bash
# make bench-peers: rssmd int8 against ONNX Runtime on every RSSMO variant, in one run.
#
# Prepares what is missing under $PEERS_DIR (default build/peers), then times:
#   <variant>/            random-init model folder in the original format (tools/reference/make_variants.py)
#   <variant>/int8.rssm   rssmd calibrate on the folder's synthetic calib.npz
#   <variant>/int4.rssm   the same with --int4 (dreamer_resnet variants only)
#   <variant>/onnx/       export_onnx.py: filter and decode graphs, float32 and dynamic int8
#   npm/                  onnxruntime-node (npm install --ignore-scripts; its linux-x64 CPU library
#                         ships inside the package)
# and prints the table (go run ./tools/peers). Needs Debian's python3-torch and python3-onnx
# (/usr/bin/python3), node and npm. Settings: PEERS_DIR, PEERS_VARIANTS (comma-separated),
# PEERS_ROUNDS (default 3). CI does not run this; the table code has a unit test.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${PEERS_DIR:-build/peers}
VARIANTS=${PEERS_VARIANTS:-rssmo,rssmo-discrete,viper,rssmo-m,rssmo-l,rssmo-xl}
ROUNDS=${PEERS_ROUNDS:-3}
ORT_VERSION=1.31.1
PY=/usr/bin/python3

if ! $PY -c 'import torch, onnx' 2>/dev/null; then
	echo "bench-peers: $PY needs torch and onnx: apt-get install python3-torch python3-onnx" >&2
	exit 1
fi
for t in node npm go; do
	command -v $t >/dev/null || { echo "bench-peers: $t not found" >&2; exit 1; }
done
mkdir -p "$DIR/npm"
if [ ! -f "$DIR/npm/node_modules/onnxruntime-node/package.json" ]; then
	(cd "$DIR/npm" && npm install --ignore-scripts --no-audit --no-fund "onnxruntime-node@$ORT_VERSION" >&2)
fi
go build -o bin/rssmd ./nodes/rssmd
for v in ${VARIANTS//,/ }; do
	d="$DIR/$v"
	[ -f "$d/model.pt" ] || $PY tools/reference/make_variants.py --out "$DIR" --only "$v" >&2
	[ -f "$d/int8.rssm" ] || bin/rssmd calibrate --model "$d" --data "$d/calib.npz" --out "$d/int8.rssm" >"$d/calibrate.log" 2>&1 ||
		{ tail -5 "$d/calibrate.log" >&2; exit 1; }
	# The dreamer_resnet variants also get a --int4 bundle (4-bit GRU, posterior and decoder
	# Linears), timed beside the int8 one; the cnn_ha ones are outside the accuracy targets with it.
	case $v in rssmo-m|rssmo-l|rssmo-xl)
		[ -f "$d/int4.rssm" ] || bin/rssmd calibrate --model "$d" --data "$d/calib.npz" --out "$d/int4.rssm" --int4 >"$d/calibrate-int4.log" 2>&1 ||
			{ tail -5 "$d/calibrate-int4.log" >&2; exit 1; } ;;
	esac
	[ -f "$d/onnx/meta.json" ] || $PY tools/peers/export_onnx.py --model "$d" --out "$d/onnx" 2>&1 | grep -v -i warn >&2
done
NODE_PATH="$DIR/npm/node_modules" go run ./tools/peers -dir "$DIR" -variants "$VARIANTS" -rounds "$ROUNDS" -rssmd bin/rssmd
