using Cocoon.Agent.Inference;
using static Cocoon.Agent.Tests.Inference.OperatorConformanceTests;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>The whole reference models (MLP, CNN, transformer encoder block) against ONNX Runtime at two batch sizes.</summary>
public sealed class ReferenceModelTests
{
    public static TheoryData<string, int> Cases => new() { { "mlp", 1 }, { "mlp", 5 }, { "cnn", 1 }, { "cnn", 3 }, { "transformer", 1 }, { "transformer", 2 } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reference_models_match_onnx_runtime(string name, int batch)
    {
        var model = ReferenceModels.All.Single(m => m.Name == name);
        var input = RandomTensor(new Random(batch), model.InputShape(batch), -1, 1);
        OrtReference.AssertSame(model.Onnx, Feeds((model.Input, input)));
    }
}
