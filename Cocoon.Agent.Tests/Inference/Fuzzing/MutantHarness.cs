using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;
using Cocoon.Agent.Inference.Gpu;
using Cocoon.Agent.Inference.Graph;
using Cocoon.Agent.Inference.Memory;
using Cocoon.Agent.Inference.Operators;
using Onnx;

namespace Cocoon.Agent.Tests.Inference.Fuzzing;

/// <summary>
/// Runs mutants of seed models and judges each: refused with a <see cref="ModelException"/> (at load
/// or at run), or run three times — once to warm up, then twice with every array the run can be handed
/// unwritten (the model's pool and arena, and kernels' scratch) filled with two different poisons — giving
/// identical bits both times. Any other exception, differing outputs or a mutant that does not finish
/// in time is a failure, reported with the mutations that made it.
/// </summary>
internal static class MutantHarness
{
    public sealed record Seed(string Name, byte[] Model, IReadOnlyDictionary<string, Tensor> Feeds);

    public sealed record Outcome(int Refused, int Ran, IReadOnlyList<string> Failures);

    /// <summary>The most activations a mutant may hold: enough for every seed, far from the machine's memory.</summary>
    private const long RunMemory = 64L << 20;

    /// <summary>Three fills of opposite signs and kinds: a comparison or a max over an unwritten value cannot come out the same under all of them.</summary>
    private static readonly float[] Poisons = [float.NaN, 12345.678f, -3.5e30f];

    /// <param name="device">A GPU to run the mutants' kernels on (ILGPU's CPU accelerator in tests); null: the CPU kernels.</param>
    public static Outcome Run(IReadOnlyList<Seed> seeds, int mutants, int seed, TimeSpan perMutant, GpuDevice? device = null)
    {
        var mutator = new ModelMutator(seed);
        var parsed = seeds.Select(s => ModelProto.Parser.ParseFrom(s.Model)).ToList();
        var (refused, ran) = (0, 0);
        var failures = new List<string>();
        for (var i = 0; i < mutants && failures.Count < 10; i++)
        {
            var k = i % seeds.Count;
            var (bytes, description) = i < seeds.Count ? (seeds[k].Model, "unchanged") : mutator.Mutate(parsed[k]);
            var judged = Task.Run(() => Judge(bytes, seeds[k].Feeds, device));
            if (!judged.Wait(perMutant))
            {
                failures.Add($"{seeds[k].Name} #{i} ({description}): no answer within {perMutant.TotalSeconds} s");
                break;
            }

            switch (judged.Result)
            {
                case null:
                    ran++;
                    break;
                case "refused":
                    refused++;
                    break;
                case var failure:
                    failures.Add($"{seeds[k].Name} #{i} ({description}): {failure}");
                    break;
            }
        }

        return new Outcome(refused, ran, failures);
    }

    /// <summary>Null when the mutant ran identically under both poisons, "refused" when refused with a model error, else what went wrong.</summary>
    private static string? Judge(byte[] bytes, IReadOnlyDictionary<string, Tensor> seedFeeds, GpuDevice? device)
    {
        OnnxModel model;
        try
        {
            model = OnnxModel.Load(bytes);
        }
        catch (ModelException ex)
        {
            return Finding(ex.Message) ?? "refused";
        }
        catch (Exception ex)
        {
            return $"loading threw {ex.GetType().Name}: {ex.Message}";
        }

        model.MaxRunMemoryBytes = RunMemory;
        var feeds = model.Inputs.ToDictionary(n => n, n => seedFeeds.GetValueOrDefault(n) ?? seedFeeds.Values.First(), StringComparer.Ordinal);
        try
        {
            // The first run traces (pool), the others run from the plan (arena): all must agree.
            string[] runs = [Attempt(model, feeds, 0f, device), .. Poisons.Select(p => Attempt(model, feeds, p, device))];
            if (runs.Distinct(StringComparer.Ordinal).Count() > 1)
            {
                return $"runs differ under different poisons: {string.Join(" / ", runs)}";
            }

            return runs[0].StartsWith("refused", StringComparison.Ordinal) ? Finding(runs[0]) ?? "refused" : null;
        }
        catch (Exception ex)
        {
            return $"running threw {ex.GetType().Name}: {ex.Message}";
        }
    }

    /// <summary>
    /// A refusal that is a finding all the same: a kernel or rule stopped by a .NET bounds check rather
    /// than by a declared check, or a kernel whose output disagreed with its rule.
    /// </summary>
    private static string? Finding(string message) =>
        message.Contains(OnnxModel.KernelFailed, StringComparison.Ordinal) || message.Contains(NodeGuard.RuleFailed, StringComparison.Ordinal)
            || message.Contains(NodeGuard.ShapeMismatch, StringComparison.Ordinal)
            ? "refused only by a .NET check or a rule/kernel mismatch: " + message
            : null;

    /// <summary>One run with the pool, the arena and scratch filled with <paramref name="poison"/>: a fingerprint of its outputs, or its model error.</summary>
    private static string Attempt(OnnxModel model, Dictionary<string, Tensor> feeds, float poison, GpuDevice? device)
    {
        model.FillActivations(poison);
        Scratch.Poison = poison;
        try
        {
            return Fingerprint(model.Run(feeds, device, out _, out _));
        }
        catch (ModelException ex)
        {
            return "refused: " + ex.Message;
        }
        finally
        {
            Scratch.Poison = null;
        }
    }

    private static string Fingerprint(IReadOnlyDictionary<string, Tensor> outputs)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, t) in outputs.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{name}:{t}"));
            hash.AppendData(t.Type switch
            {
                ElementType.Float32 => MemoryMarshal.AsBytes(t.Data.AsSpan()),
                ElementType.Int64 => MemoryMarshal.AsBytes(t.Longs.AsSpan()),
                _ => MemoryMarshal.AsBytes(t.Bools.AsSpan()),
            });
        }

        return Convert.ToHexString(hash.GetHashAndReset())[..16];
    }

    /// <summary>The reference models, small, with seeded inputs.</summary>
    public static IEnumerable<Seed> ReferenceSeeds()
    {
        var random = new Random(5);
        foreach (var reference in new[] { ReferenceModels.Mlp(), ReferenceModels.Cnn(), ReferenceModels.Transformer(sequence: 8, width: 32, heads: 2, hidden: 64) })
        {
            var shape = reference.InputShape(2);
            var values = ReferenceModels.Values(random, (int)Tensor.ElementCount(shape), 1f);
            yield return new Seed(reference.Name, reference.Onnx, new Dictionary<string, Tensor>(StringComparer.Ordinal) { [reference.Input] = new(shape, values) });
        }
    }

    /// <summary>ONNX's own backend test models (TestData/onnx-backend) that this engine loads and runs, with their inputs.</summary>
    public static IEnumerable<Seed> BackendSeeds()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "TestData", "onnx-backend");
        foreach (var directory in Directory.GetDirectories(root, "*", SearchOption.AllDirectories).Where(d => File.Exists(Path.Combine(d, "model.onnx"))).Order(StringComparer.Ordinal))
        {
            var bytes = File.ReadAllBytes(Path.Combine(directory, "model.onnx"));
            OnnxModel model;
            try
            {
                model = OnnxModel.Load(bytes);
            }
            catch (ModelException)
            {
                continue;
            }

            List<Tensor> inputs;
            try
            {
                inputs = [.. Directory.GetFiles(Path.Combine(directory, "test_data_set_0"), "input_*.pb").Order(StringComparer.Ordinal)
                    .Select(f => Initializers.Read(TensorProto.Parser.ParseFrom(File.ReadAllBytes(f))))];
            }
            catch (ModelException)
            {
                // Element types the engine does not hold (double inputs) are not a seed.
                continue;
            }

            if (inputs.Count != model.Inputs.Count)
            {
                continue;
            }

            var feeds = model.Inputs.Select((n, i) => (n, inputs[i])).ToDictionary(p => p.n, p => p.Item2, StringComparer.Ordinal);
            try
            {
                model.Run(feeds);
            }
            catch (ModelException)
            {
                continue;
            }

            yield return new Seed(Path.GetFileName(directory), bytes, feeds);
        }
    }
}
