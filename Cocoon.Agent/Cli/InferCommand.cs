using System.CommandLine;
using System.Globalization;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Inference.Bench;

namespace Cocoon.Agent.Cli;

/// <summary><c>cocoon-agent infer</c>: run an ONNX model on tensors from a file and write its outputs.</summary>
public static class InferCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "The ONNX model.", Required = true };
        var input = new Option<FileInfo>("--input") { Description = "Inputs as .npz or .safetensors; member names are the graph's input names.", Required = true };
        var output = new Option<FileInfo>("--output") { Description = "Where to write the outputs (.npz or .safetensors), under the graph's output names.", Required = true };
        var device = DeviceOption.Create();
        var repeat = new Option<int>("--repeat") { Description = "After a warm-up, run N more times and print the median latency." };
        var profile = new Option<bool>("--profile") { Description = "Run once more and print the time spent in each operator type." };
        var command = new Command("infer", "Run an ONNX model on inputs from a file and write its outputs.") { model, input, output, device, repeat, profile };
        command.SetAction(parse => Run(parse.GetValue(model)!, parse.GetValue(input)!, parse.GetValue(output)!, parse.GetValue(device) ?? "auto", parse.GetValue(repeat), parse.GetValue(profile)));
        return command;
    }

    public static int Run(FileInfo modelFile, FileInfo inputFile, FileInfo outputFile, string device, int repeat, bool profile = false)
    {
        ArgumentNullException.ThrowIfNull(modelFile);
        ArgumentNullException.ThrowIfNull(inputFile);
        ArgumentNullException.ThrowIfNull(outputFile);
        if (repeat < 0)
        {
            return Fail(2, "--repeat must be 0 or more.");
        }

        foreach (var file in new[] { modelFile, inputFile })
        {
            if (!file.Exists)
            {
                return Fail(2, $"{file.FullName} does not exist.");
            }
        }

        InferenceDevice target;
        try
        {
            target = InferenceDevice.Open(device);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            return Fail(2, $"--device {device}: {ex.Message}");
        }

        using var opened = target;
        try
        {
            OnnxModel model;
            using (var stream = modelFile.OpenRead())
            {
                model = OnnxModel.Load(stream);
            }

            var feeds = TensorFiles.Read(inputFile.FullName);
            var missing = model.Inputs.Where(n => !feeds.ContainsKey(n)).ToList();
            if (missing.Count > 0)
            {
                return Fail(1, $"{inputFile.Name} has no {string.Join(", ", missing.Select(m => $"'{m}'"))}; the model's inputs are {string.Join(", ", model.Inputs.Select(m => $"'{m}'"))}.");
            }

            var outputs = target.Run(model, feeds, out var flops, out _);
            TensorFiles.Write(outputFile.FullName, outputs);
            Console.WriteLine($"wrote {string.Join(", ", outputs.Select(o => $"{o.Key} {o.Value}"))} to {outputFile.Name} ({flops / 1e9:N3} GFLOP on {target.Name})");
            if (repeat > 0)
            {
                var timing = ModelTiming.Measure(model, feeds, repeat, TimeSpan.Zero, repeat, target);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"median latency {timing.Median:N3} ms over {repeat} run(s) (p90 {timing.P90:N3} ms), {timing.Gflops:N2} GFLOP/s on {target.Name}"));
            }

            if (profile)
            {
                var times = new OperatorProfile();
                model.Run(feeds, target.Gpu, out _, out _, times);
                foreach (var (op, time, nodes) in times.Entries)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{op,-24}{time.TotalMilliseconds,10:N3} ms {100 * time / times.Total,6:N1} % {nodes,5} node(s)"));
                }
            }

            return 0;
        }
        catch (ModelException ex)
        {
            return Fail(1, ex.Message);
        }
        catch (IOException ex)
        {
            return Fail(1, ex.Message);
        }
    }

    private static int Fail(int code, string message)
    {
        Console.Error.WriteLine($"cocoon-agent: {message}");
        return code;
    }
}
