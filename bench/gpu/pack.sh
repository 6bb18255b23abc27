#!/usr/bin/env bash
# Builds what the GPU machine runs into .gpu/payload.tar.xz (ignored by git): this machine's .NET
# runtime (that machine has none), the agent, the GPU harness and the agent's test assembly, Linux
# x64 native libraries only. bench/gpu/run.sh unpacks and runs it there; docs/BENCHMARKS.md says how.
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build -c Release Cocoon.Agent.Tests -v quiet -nologo -clp:ErrorsOnly
dotnet build -c Release bench/Cocoon.GpuBench -v quiet -nologo -clp:ErrorsOnly
root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime=$(ls -d "$root"/shared/Microsoft.NETCore.App/10.* | sort -V | tail -1)
stage=$(mktemp -d)
mkdir -p "$stage/dotnet/shared/Microsoft.NETCore.App" "$stage/dotnet/host"
cp "$root/dotnet" "$stage/dotnet/"
cp -r "$root/host/fxr" "$stage/dotnet/host/"
cp -r "$runtime" "$stage/dotnet/shared/Microsoft.NETCore.App/"
copy() { # copy BIN DEST: a build's output without other platforms' native libraries
  cp -r "$1" "$2"
  find "$2/runtimes" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} + 2>/dev/null || true
}
copy Cocoon.Agent/bin/Release/net10.0 "$stage/agent"
copy bench/Cocoon.GpuBench/bin/Release/net10.0 "$stage/gpubench"
copy Cocoon.Agent.Tests/bin/Release/net10.0 "$stage/tests"
mkdir -p .gpu
tar -C "$stage" -cJf .gpu/payload.tar.xz .
rm -rf "$stage"
mkdir -p "$(git rev-parse --git-dir)/info"
grep -qx '/.gpu/' "$(git rev-parse --git-dir)/info/exclude" 2>/dev/null || echo '/.gpu/' >> "$(git rev-parse --git-dir)/info/exclude"
ls -la .gpu/payload.tar.xz
