#!/usr/bin/env bash
# On the GPU machine, from the repository root, after bench/gpu/pack.sh here and with .gpu carried:
# the CUDA tests, the engine's GEMM against cuBLAS, and the reference models on the GPU (the agent's
# bench) against PyTorch. Logs go to $OUT (or ./gpu-out) as well as standard output.
set -uo pipefail
out=${OUT:-gpu-out}
mkdir -p "$out" /tmp/cocoon
tar -C /tmp/cocoon -xJf .gpu/payload.tar.xz
export DOTNET_ROOT=/tmp/cocoon/dotnet PATH=/tmp/cocoon/dotnet:$PATH DOTNET_CLI_TELEMETRY_OPTOUT=1
sizes=${SIZES:-256 512 1024 2048 4096 8192}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit --format=csv | tee "$out/gpu.txt"
status=0
dotnet /tmp/cocoon/gpubench/Cocoon.GpuBench.dll tests /tmp/cocoon/tests/Cocoon.Agent.Tests.dll Gpu 2>&1 | tee "$out/tests.txt" || status=1
dotnet /tmp/cocoon/gpubench/Cocoon.GpuBench.dll matmul $sizes 2>&1 | tee "$out/matmul.txt" || status=1
python3 bench/gpu/torch_reference.py matmul $sizes 2>&1 | tee "$out/cublas.txt" || status=1
dotnet /tmp/cocoon/gpubench/Cocoon.GpuBench.dll export-models /tmp/cocoon/models >/dev/null || status=1
dotnet /tmp/cocoon/agent/cocoon-agent.dll bench --device cuda --seconds "${SECONDS_PER_MODEL:-2}" 2>&1 | tee "$out/agent-cuda.txt" || status=1
python3 bench/gpu/torch_reference.py models /tmp/cocoon/models 2>&1 | tee "$out/torch-models.txt" || status=1
if [ -n "${PROFILE:-}" ]; then # where each model's time goes on the GPU, and what ptxas makes of the blocked GEMM
  for model in mlp cnn transformer; do for batch in 1 32; do
    echo "== $model batch $batch"
    dotnet /tmp/cocoon/agent/cocoon-agent.dll infer --model /tmp/cocoon/models/$model.onnx --input /tmp/cocoon/models/$model-b$batch.npz \
      --output /tmp/cocoon/out.npz --device cuda --repeat 50 --profile 2>&1 | tail -n +2
  done; done | tee "$out/profile.txt"
  dotnet /tmp/cocoon/gpubench/Cocoon.GpuBench.dll ptx GemmBlocked > /tmp/cocoon/blocked.ptx
  ptxas -arch=sm_90 -O3 -v /tmp/cocoon/blocked.ptx -o /tmp/cocoon/blocked.cubin 2>&1 | tee "$out/ptxas.txt"
  cuobjdump -sass /tmp/cocoon/blocked.cubin > "$out/blocked.sass" && grep -oE "(FFMA|LDS(\.[0-9A-Z]+)*|BAR|IMAD|LDG|STS)" "$out/blocked.sass" | sort | uniq -c
fi
echo "--- summary"; grep -E "tests:" "$out/tests.txt"; cat "$out/matmul.txt" "$out/cublas.txt" "$out/torch-models.txt" | grep -v "^device"
exit $status
