using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
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

    /// <summary>
    /// Runs of one loaded model take dead values' arrays from its pool, and products and convolutions
    /// take them without clearing (they write every element): each warm run on new inputs must give
    /// exactly what a freshly loaded model gives.
    /// </summary>
    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("transformer")]
    public void Warm_runs_on_new_inputs_equal_a_fresh_model(string name)
    {
        var reference = ReferenceModels.All.Single(m => m.Name == name);
        var warm = OnnxModel.Load(reference.Onnx);
        foreach (var (batch, seed) in new[] { (3, 1), (1, 2), (3, 3), (3, 4) })
        {
            var feeds = Feeds((reference.Input, RandomTensor(new Random(seed), reference.InputShape(batch), -1, 1)));
            var expected = OnnxModel.Load(reference.Onnx).Run(feeds);
            foreach (var (output, value) in warm.Run(feeds))
            {
                Assert.Equal(expected[output].Data, value.Data);
            }
        }
    }
}
