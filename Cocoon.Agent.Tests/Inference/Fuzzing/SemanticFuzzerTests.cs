using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Gpu;
using Xunit.Abstractions;

namespace Cocoon.Agent.Tests.Inference.Fuzzing;

/// <summary>
/// Mutants of the reference models and of ONNX's own backend test models are refused with a model
/// error or run identically under two memory poisons: no crash, no hang, no other exception, and no
/// output that depends on memory the run was not given. Seeded; <c>bench fuzz</c> runs many more.
/// </summary>
[Collection(PoisonCollection.Name)]
public sealed class SemanticFuzzerTests(ITestOutputHelper output)
{
    [Fact]
    public void Mutants_of_the_reference_models_are_refused_or_run_identically_under_two_poisons() =>
        Check([.. MutantHarness.ReferenceSeeds()], 3000, seed: 13);

    [Fact]
    public void Mutants_of_real_exported_models_are_refused_or_run_identically_under_two_poisons()
    {
        var seeds = MutantHarness.BackendSeeds().ToList();
        output.WriteLine($"{seeds.Count} backend models load and run: {string.Join(", ", seeds.Select(s => s.Name))}");
        // Most of ONNX's backend models import opsets older than 9, which this engine refuses; the ones
        // it runs still cover shapes and operators (Reshape/Transpose chains, Expand, Tile) ours lack.
        Assert.True(seeds.Count >= 8, $"only {seeds.Count} backend models load and run");
        Check(seeds, 3000, seed: 29);
    }

    /// <summary>The same on the GPU kernels, run by ILGPU's CPU accelerator: slow, so fewer and smaller mutants.</summary>
    [Fact]
    public void Mutants_run_on_the_gpu_kernels_are_refused_or_run_identically_twice()
    {
        var reference = MutantHarness.ReferenceSeeds().Where(s => s.Name != "cnn");
        Check([.. reference, .. MutantHarness.BackendSeeds()], 1000, seed: 47, OrtReference.IlgpuCpu);
    }

    private void Check(IReadOnlyList<MutantHarness.Seed> seeds, int mutants, int seed, GpuDevice? device = null)
    {
        var outcome = MutantHarness.Run(seeds, mutants, seed, TimeSpan.FromSeconds(60), device);
        output.WriteLine($"{mutants} mutants: {outcome.Refused} refused, {outcome.Ran} ran identically under both poisons, {outcome.Failures.Count} failed");
        Assert.True(outcome.Failures.Count == 0, string.Join(Environment.NewLine, outcome.Failures));

        // A fuzzer whose mutants are all refused tests nothing past the loader.
        Assert.True(outcome.Ran > mutants / 10, $"only {outcome.Ran} of {mutants} mutants ran");
    }
}

/// <summary>Tests that set <see cref="Scratch.Poison"/> run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PoisonCollection
{
    public const string Name = "Poison";
}
