"""PyTorch on the same GPU, for docs/BENCHMARKS.md's CUDA section.

  python3 bench/gpu/torch_reference.py matmul 256 512 ...   cuBLAS sgemm (TF32 off), GFLOP/s
  python3 bench/gpu/torch_reference.py models DIR           the reference models (Cocoon.GpuBench export-models)
                                                            in PyTorch eager, batch 1 and 32, median ms

Model times count the input's copy to the GPU and the output's copy back, as the engine's run does.
"""
import statistics
import sys
import time

import onnx
import torch
from onnx import numpy_helper

try:  # PyTorch 2.9 and later
    torch.backends.cuda.matmul.fp32_precision = "ieee"
    torch.backends.cudnn.conv.fp32_precision = "ieee"
except AttributeError:
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def median_ms(fn, seconds=0.5):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 10:
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def matmul(sizes):
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}, TF32 off")
    print("| n | cuBLAS median ms | GFLOP/s |")
    print("| ---: | ---: | ---: |")
    for n in sizes:
        a = torch.rand(n, n, device="cuda") * 2 - 1
        b = torch.rand(n, n, device="cuda") * 2 - 1
        c = torch.empty(n, n, device="cuda")
        ms = median_ms(lambda: torch.mm(a, b, out=c))
        print(f"| {n} | {ms:.3f} | {2 * n ** 3 / ms / 1e6:.0f} |")


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def interpret(model):
    """The model's graph as a PyTorch function (the operators the reference models use)."""
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()).cuda() for t in model.graph.initializer}
    nodes = [(n.op_type, list(n.input), list(n.output), attributes(n)) for n in model.graph.node]
    F = torch.nn.functional

    def run(x):
        values = dict(weights)
        values[model.graph.input[0].name] = x
        for op, ins, outs, at in nodes:
            i = [values[name] if name else None for name in ins]
            if op == "Gemm":
                a = i[0].T if at.get("transA") else i[0]
                b = i[1].T if at.get("transB") else i[1]
                y = at.get("alpha", 1.0) * (a @ b) + (at.get("beta", 1.0) * i[2] if len(i) > 2 else 0)
            elif op == "MatMul":
                y = i[0] @ i[1]
            elif op in ("Add", "Mul", "Div", "Sub"):
                y = {"Add": torch.add, "Mul": torch.mul, "Div": torch.div, "Sub": torch.sub}[op](i[0], i[1])
            elif op == "Relu":
                y = F.relu(i[0])
            elif op == "Erf":
                y = torch.erf(i[0])
            elif op == "Softmax":
                y = F.softmax(i[0], dim=at.get("axis", -1))
            elif op == "Conv":
                pads = at.get("pads", [0, 0, 0, 0])
                y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, stride=at.get("strides", [1, 1]), padding=(pads[0], pads[1]))
            elif op == "BatchNormalization":
                y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], training=False, eps=at.get("epsilon", 1e-5))
            elif op == "MaxPool":
                y = F.max_pool2d(i[0], at["kernel_shape"], at.get("strides", at["kernel_shape"]))
            elif op == "GlobalAveragePool":
                y = i[0].mean(dim=(2, 3), keepdim=True)
            elif op == "Flatten":
                y = torch.flatten(i[0], at.get("axis", 1))
            elif op == "LayerNormalization":
                y = F.layer_norm(i[0], i[0].shape[-1:], i[1], i[2], eps=at.get("epsilon", 1e-5))
            elif op == "Reshape":
                shape = [int(d) for d in i[1].tolist()]
                shape = [i[0].shape[k] if d == 0 else d for k, d in enumerate(shape)]
                y = i[0].reshape(shape)
            elif op == "Transpose":
                y = i[0].permute(at["perm"])
            else:
                raise SystemExit(f"torch_reference.py: no PyTorch form for {op}")
            values[outs[0]] = y
        return values[model.graph.output[0].name]

    return run


def models(directory):
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}, TF32 off, eager")
    print("| model | batch | PyTorch median ms |")
    print("| --- | ---: | ---: |")
    for name in ("mlp", "cnn", "transformer"):
        model = onnx.load(f"{directory}/{name}.onnx")
        run = interpret(model)
        dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim][1:]
        for batch in (1, 32):
            host = torch.rand(batch, *dims) * 2 - 1
            with torch.inference_mode():
                ms = median_ms(lambda: run(host.cuda()).cpu())
            print(f"| {name} | {batch} | {ms:.3f} |")


if __name__ == "__main__":
    if sys.argv[1] == "matmul":
        matmul([int(n) for n in sys.argv[2:]])
    else:
        models(sys.argv[2])
