// Times ONNX Runtime (onnxruntime-node, CPU, one intra-op thread) on the graphs export_onnx.py
// wrote: the filter step and the decode, float32 and dynamic int8. Prints one JSON object:
// per graph the median and minimum µs over --n calls (after a warm-up), and how far the int8
// outputs are from the float32 ones (cosine of the posterior statistics, max |Δ| of the image), so a broken
// int8 graph cannot pass as a fast one.
//
//   NODE_PATH=DIR/node_modules node tools/peers/ort_bench.js --dir OUTDIR [--n 300]
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

// The graphs per step: float32; int8 with every Conv, MatMul and Gemm quantised; int8 with the
// Linears (MatMul, Gemm) only: ORT's ConvInteger runs slower than its float Conv, so the faster of
// the two int8 graphs is the fair peer.
const KINDS = [['fp32', '.onnx'], ['int8', '.int8.onnx'], ['int8lin', '.int8lin.onnx']];

function args(argv) {
  const a = { n: 300 };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in { dir: 1, n: 1 }) || i + 1 >= argv.length) {
      throw new Error(`ort_bench: bad argument ${argv[i]} (want --dir OUTDIR [--n N])`);
    }
    a[k] = k === 'n' ? parseInt(argv[i + 1], 10) : argv[i + 1];
  }
  if (!a.dir || !(a.n > 0)) throw new Error('ort_bench: --dir is required and --n must be > 0');
  return a;
}

// A fixed pseudo-random sequence, so fp32 and int8 see the same inputs.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function feedsFor(meta, graph, k) {
  const r = rng(17 + k);
  const f32 = (n, scale) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
  const feeds = {
    deter: new ort.Tensor('float32', f32(meta.deter, 0.8), [1, meta.deter]),
    stoch: new ort.Tensor('float32', f32(meta.stoch, 1), [1, meta.stoch]),
  };
  if (graph === 'filter') {
    const img = Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7 + k * 13 + Math.floor(r() * 40)) & 255);
    feeds.image = new ort.Tensor('uint8', img, [1, 64, 64, 3]);
    if (meta.action > 0) feeds.action = new ort.Tensor('float32', f32(meta.action, 0.5), [1, meta.action]);
  }
  return feeds;
}

async function time(sess, feeds, n) {
  for (let i = 0; i < Math.min(n, 30); i++) await sess.run(feeds[i % feeds.length]);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await sess.run(feeds[i % feeds.length]);
    d[i] = Number(process.hrtime.bigint() - t0) / 1e3;
  }
  d.sort();
  return { median: d[n >> 1], min: d[0], n };
}

function cosine(a, b) {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return ab / Math.sqrt(aa * bb);
}

function maxAbs(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function main() {
  const a = args(process.argv);
  const meta = JSON.parse(fs.readFileSync(path.join(a.dir, 'meta.json'), 'utf8'));
  const opts = {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const res = { ort_version: require('onnxruntime-node/package.json').version };
  for (const graph of ['filter', 'decode']) {
    const feeds = Array.from({ length: 8 }, (_, k) => feedsFor(meta, graph, k));
    const outs = {};
    for (const [kind, suffix] of KINDS) {
      const file = path.join(a.dir, graph + suffix);
      const sess = await ort.InferenceSession.create(file, opts);
      res[`${graph}_${kind}_us`] = await time(sess, feeds, a.n);
      outs[kind] = await sess.run(feeds[0]);
      await sess.release();
    }
    for (const [kind] of KINDS.slice(1)) {
      // The posterior is the output the encoder reaches (deter_out does not depend on the image).
      res[`${graph}_${kind}_err`] = graph === 'filter'
        ? { posterior_cosine: cosine(outs.fp32.posterior.data, outs[kind].posterior.data) }
        : { image_max_abs: maxAbs(outs.fp32.image_mean.data, outs[kind].image_mean.data) };
    }
  }
  process.stdout.write(JSON.stringify(res) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
