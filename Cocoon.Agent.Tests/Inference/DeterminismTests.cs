using System.Diagnostics;
using System.Runtime.InteropServices;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// The same rows give the same bits however many cores run them, and in any batch whose split keeps
/// the GEMM's 4-row blocks (8 rows as 4 + 4; batches under 4 rows, which take the one-row kernel): what
/// redundant runs compare (digests of plaintext outputs) depends on it. A batch of 5 is not the same
/// bits as rows of a batch of 8: its fifth row takes the one-row kernel, whose sums round in another order.
/// </summary>
public sealed class DeterminismTests
{
    public static TheoryData<string> Models => new() { "mlp", "cnn", "transformer" };

    private static Tensor Rows(Tensor t, int from, int count)
    {
        var per = t.Length / t.Shape[0];
        return new Tensor([count, .. t.Shape[1..]], t.Data.AsSpan(from * per, count * per).ToArray());
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void A_row_gives_the_same_bits_in_any_batch_split(string name)
    {
        var reference = ReferenceModels.All.Single(m => m.Name == name);
        var model = OnnxModel.Load(reference.Onnx);
        var input = new Tensor(reference.InputShape(8), ReferenceModels.Values(new Random(3), reference.InputShape(8).Aggregate(1, (a, b) => a * b), 1f));

        var whole = model.Run(new Dictionary<string, Tensor> { [reference.Input] = input });
        foreach (var (from, count) in new[] { (0, 4), (4, 4) })
        {
            var part = model.Run(new Dictionary<string, Tensor> { [reference.Input] = Rows(input, from, count) });
            foreach (var (output, value) in part)
            {
                Assert.True(MemoryMarshal.AsBytes(Rows(whole[output], from, count).Data.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(value.Data.AsSpan())),
                    $"{name}: rows {from}..{from + count - 1} of '{output}' differ between a batch of 8 and one of {count}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Batches_under_four_rows_give_each_row_the_same_bits(string name)
    {
        var reference = ReferenceModels.All.Single(m => m.Name == name);
        var model = OnnxModel.Load(reference.Onnx);
        var input = new Tensor(reference.InputShape(3), ReferenceModels.Values(new Random(4), reference.InputShape(3).Aggregate(1, (a, b) => a * b), 1f));

        var three = model.Run(new Dictionary<string, Tensor> { [reference.Input] = input });
        for (var row = 0; row < 3; row++)
        {
            foreach (var (output, value) in model.Run(new Dictionary<string, Tensor> { [reference.Input] = Rows(input, row, 1) }))
            {
                Assert.True(MemoryMarshal.AsBytes(Rows(three[output], row, 1).Data.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(value.Data.AsSpan())),
                    $"{name}: row {row} of '{output}' differs between a batch of 3 and one of 1");
            }
        }
    }

    /// <summary>The agent's own `infer` in fresh processes told they have one core and two: bit-identical outputs (batch 3: rows of the GEMM that are not a whole 4-row block, on one core and split across two).</summary>
    [Fact]
    public void Outputs_are_the_same_bits_on_one_core_and_on_two()
    {
        var directory = Directory.CreateTempSubdirectory("cocoon-determinism-").FullName;
        try
        {
            // The MLP at batch 1: a matrix-vector product, which two cores once split along k and summed
            // in an order of their own; the transformer at batch 3: 192 rows, not a whole number of 4-row blocks.
            foreach (var (reference, batch) in new[] { (ReferenceModels.Mlp(), 1), (ReferenceModels.Transformer(), 3) })
            {
                var modelPath = Path.Combine(directory, $"{reference.Name}.onnx");
                File.WriteAllBytes(modelPath, reference.Onnx);
                var inputPath = Path.Combine(directory, $"{reference.Name}.npz");
                TensorFiles.WriteNpz(inputPath, new Dictionary<string, Tensor> { [reference.Input] = new(reference.InputShape(batch), ReferenceModels.Values(new Random(5), reference.InputShape(batch).Aggregate(1, (a, b) => a * b), 1f)) });

                Dictionary<string, Tensor> Run(int cores)
                {
                    var output = Path.Combine(directory, $"{reference.Name}-out{cores}.npz");
                    var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
                    foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "cocoon-agent.dll"), "infer", "--model", modelPath, "--input", inputPath, "--output", output, "--device", "cpu" })
                    {
                        start.ArgumentList.Add(argument);
                    }

                    start.Environment["DOTNET_PROCESSOR_COUNT"] = cores.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    using var process = Process.Start(start)!;
                    var error = process.StandardError.ReadToEndAsync();
                    _ = process.StandardOutput.ReadToEnd();
                    Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "infer did not finish");
                    Assert.True(process.ExitCode == 0, error.Result);
                    return TensorFiles.ReadNpz(output);
                }

                // The tensors, not the files: a zip records when it was written.
                var (one, two) = (Run(1), Run(2));
                Assert.Equal(one.Keys, two.Keys);
                Assert.All(one, o => Assert.True(MemoryMarshal.AsBytes(o.Value.Data.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(two[o.Key].Data.AsSpan())), $"{reference.Name}: '{o.Key}' differs"));
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
