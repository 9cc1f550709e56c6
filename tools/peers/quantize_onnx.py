#!/usr/bin/python3
"""Dynamic int8 quantisation of an ONNX graph, the rewrite ONNX Runtime's quantize_dynamic does.

onnxruntime's Python package (which holds quantize_dynamic) is not in Debian, so this is our own
version of the same rewrite with its default settings, written from the ONNX operator definitions:

* every Conv, MatMul and Gemm whose weight is a constant: the weight becomes int8, symmetric, one
  scale per tensor (max|w|/127, zero point 0: quantize_dynamic's QInt8, per_channel=False);
* its input goes through DynamicQuantizeLinear (uint8, scale and zero point computed per call from
  the tensor's min/max), shared by every consumer of that tensor;
* ConvInteger / MatMulInteger produce int32, then Cast to float, Mul by x_scale*w_scale and Add the
  bias: the pattern ORT's graph optimiser fuses into MatMulIntegerToFloat / DynamicQuantizeMatMul.
  quantize_dynamic leaves Gemm alone (it is not in its op list); torch exports every B=1 Linear as
  Gemm, so Gemm is rewritten here as the MatMul it would be, or the int8 model would be all float.
* ConvTranspose, norms and elementwise ops stay float, as quantize_dynamic leaves them.

    /usr/bin/python3 tools/peers/quantize_onnx.py IN.onnx OUT.onnx
"""

import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def _sym_int8(w):
    scale = float(np.max(np.abs(w))) / 127.0 or 1.0
    return np.clip(np.round(w / scale), -127, 127).astype(np.int8), np.float32(scale)


def quantize_model(model, op_types=("Conv", "MatMul", "Gemm")):
    """Rewrite model in place; returns how many nodes of each type became integer ops."""
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    new_nodes, new_inits = [], []
    dql = {}  # input tensor -> (xq, x_scale, x_zp), one DynamicQuantizeLinear per tensor
    counts = {"Conv": 0, "MatMul": 0, "Gemm": 0}

    def quant_input(name):
        if name not in dql:
            base = f"{name}_dq"
            new_nodes.append(helper.make_node("DynamicQuantizeLinear", [name],
                                              [base + "_q", base + "_s", base + "_zp"],
                                              name=base))
            dql[name] = (base + "_q", base + "_s", base + "_zp")
        return dql[name]

    def const(name, arr):
        new_inits.append(numpy_helper.from_array(arr, name))
        return name

    def finish(node, acc, wscale, bias, bias_shape):
        """int32 acc -> float * (x_scale*w_scale) (+ bias) into the node's output."""
        p = node.name or node.output[0]
        xs = dql_scale = acc[1]
        del dql_scale
        sc = const(p + "_ws", np.array(wscale, np.float32))
        nodes = [
            helper.make_node("Cast", [acc[0]], [p + "_f"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [xs, sc], [p + "_sc"]),
        ]
        if bias is None:
            nodes.append(helper.make_node("Mul", [p + "_f", p + "_sc"], [node.output[0]]))
        else:
            nodes.append(helper.make_node("Mul", [p + "_f", p + "_sc"], [p + "_fs"]))
            b = const(p + "_b", bias.reshape(bias_shape).astype(np.float32))
            nodes.append(helper.make_node("Add", [p + "_fs", b], [node.output[0]]))
        new_nodes.extend(nodes)

    for node in g.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        p = node.name or node.output[0]
        if node.op_type not in op_types:
            new_nodes.append(node)
        elif node.op_type == "Conv" and node.input[1] in inits:
            w = numpy_helper.to_array(inits[node.input[1]])
            wq, ws = _sym_int8(w)
            xq, xs, xz = quant_input(node.input[0])
            wname = const(p + "_wq", wq)
            wz = const(p + "_wzp", np.array(0, np.int8))
            new_nodes.append(helper.make_node("ConvInteger", [xq, wname, xz, wz], [p + "_acc"],
                                              name=p + "_int", **attrs))
            bias = numpy_helper.to_array(inits[node.input[2]]) if len(node.input) > 2 else None
            finish(node, (p + "_acc", xs), ws, bias, (1, -1, 1, 1))
            counts["Conv"] += 1
        elif node.op_type == "MatMul" and node.input[1] in inits:
            w = numpy_helper.to_array(inits[node.input[1]])
            wq, ws = _sym_int8(w)
            xq, xs, xz = quant_input(node.input[0])
            wname = const(p + "_wq", wq)
            wz = const(p + "_wzp", np.array(0, np.int8))
            new_nodes.append(helper.make_node("MatMulInteger", [xq, wname, xz, wz], [p + "_acc"],
                                              name=p + "_int"))
            finish(node, (p + "_acc", xs), ws, None, None)
            counts["MatMul"] += 1
        elif (node.op_type == "Gemm" and node.input[1] in inits and not attrs.get("transA", 0)
              and attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0):
            w = numpy_helper.to_array(inits[node.input[1]])
            if attrs.get("transB", 0):
                w = np.ascontiguousarray(w.T)
            wq, ws = _sym_int8(w)
            xq, xs, xz = quant_input(node.input[0])
            wname = const(p + "_wq", wq)
            wz = const(p + "_wzp", np.array(0, np.int8))
            new_nodes.append(helper.make_node("MatMulInteger", [xq, wname, xz, wz], [p + "_acc"],
                                              name=p + "_int"))
            bias = None
            if len(node.input) > 2 and node.input[2] in inits:
                bias = numpy_helper.to_array(inits[node.input[2]])
            elif len(node.input) > 2 and node.input[2]:
                raise ValueError(f"{p}: Gemm bias {node.input[2]} is not a constant")
            finish(node, (p + "_acc", xs), ws, bias, (1, -1))
            counts["Gemm"] += 1
        else:
            new_nodes.append(node)

    # Drop the float weights nothing reads any more.
    used = {i for n in new_nodes for i in n.input}
    keep = [t for t in g.initializer if t.name in used] + new_inits
    del g.node[:]
    g.node.extend(new_nodes)
    del g.initializer[:]
    g.initializer.extend(keep)
    # ORT's contrib fusions live in the com.microsoft domain; the plain ops here are ai.onnx.
    onnx.checker.check_model(model)
    return counts


def quantize_file(src, dst, op_types=("Conv", "MatMul", "Gemm")):
    model = onnx.load(src)
    counts = quantize_model(model, op_types)
    onnx.save(model, dst)
    return counts


def main(argv):
    if len(argv) != 3:
        raise SystemExit("usage: quantize_onnx.py IN.onnx OUT.onnx")
    counts = quantize_file(argv[1], argv[2])
    print(f"quantize_onnx: {argv[1]} -> {argv[2]}: {counts}")


if __name__ == "__main__":
    main(sys.argv)
