using System.CommandLine;
using Cocoon.Agent.Compute;

namespace Cocoon.Agent.Cli;

/// <summary><c>--device</c>, said and checked the same way by every command that takes it.</summary>
internal static class DeviceOption
{
    public const string Description =
        "auto (CUDA, then OpenCL, then the CPU), cpu (SIMD kernels), cuda, opencl, or ilgpu-cpu (the GPU kernels on ILGPU's CPU emulator: slow, for checking).";

    /// <summary>
    /// The option; a word that is no choice is one error naming them all (AcceptOnlyFromAmong's
    /// message takes a line per choice), in the words the Agent:Device setting's check uses.
    /// </summary>
    public static Option<string> Create(string description = Description)
    {
        var option = new Option<string>("--device") { Description = description, HelpName = string.Join("|", DeviceCatalog.Choices) };
        option.CompletionSources.Add([.. DeviceCatalog.Choices]);
        option.Validators.Add(result =>
        {
            var word = result.GetValueOrDefault<string>();
            if (!DeviceCatalog.IsChoice(word))
            {
                result.AddError(DeviceCatalog.MustBeOneOf("--device", word));
            }
        });
        return option;
    }
}
