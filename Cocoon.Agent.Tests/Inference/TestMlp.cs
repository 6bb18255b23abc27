using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Graph;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>A small perceptron with a plain C# reference (shared with the portal's end-to-end tests by a linked file).</summary>
internal static class TestMlp
{
    /// <summary>
    /// A two-layer perceptron y = sigmoid(relu(x·W1 + b1)·W2 + b2) with seeded weights, and the same
    /// function in plain C# (double accumulation) to check any engine's output against.
    /// </summary>
    public static (byte[] Model, Func<float[], int, float[]> Reference) Build(int inputs, int hidden, int outputs, int seed)
    {
        var random = new Random(seed);
        float[] Values(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2) - 1))];
        var w1 = Values(inputs * hidden);
        var b1 = Values(hidden);
        var w2 = Values(hidden * outputs);
        var b2 = Values(outputs);
        var model = new OnnxGraphBuilder()
            .Input("x", "rows", inputs)
            .Output("y", "rows", outputs)
            .Initializer("w1", [inputs, hidden], w1)
            .Initializer("b1", [hidden], b1)
            .Initializer("w2", [hidden, outputs], w2)
            .Initializer("b2", [outputs], b2)
            .Node("MatMul", ["x", "w1"], "h0")
            .Node("Add", ["h0", "b1"], "h1")
            .Node("Relu", ["h1"], "h2")
            .Node("Gemm", ["h2", "w2", "b2"], "z")
            .Node("Sigmoid", ["z"], "y")
            .Build();

        float[] Reference(float[] x, int rows)
        {
            var y = new float[rows * outputs];
            var h = new double[hidden];
            for (var r = 0; r < rows; r++)
            {
                for (var j = 0; j < hidden; j++)
                {
                    double sum = b1[j];
                    for (var i = 0; i < inputs; i++)
                    {
                        sum += (double)x[(r * inputs) + i] * w1[(i * hidden) + j];
                    }

                    h[j] = Math.Max(sum, 0);
                }

                for (var k = 0; k < outputs; k++)
                {
                    double sum = b2[k];
                    for (var j = 0; j < hidden; j++)
                    {
                        sum += h[j] * w2[(j * outputs) + k];
                    }

                    y[(r * outputs) + k] = (float)(1 / (1 + Math.Exp(-sum)));
                }
            }

            return y;
        }

        return (model, Reference);
    }
}
