using Cocoon.Agent.Cli;
using Cocoon.Agent.Compute;
using Cocoon.Agent.Inference;
using Cocoon.Shared.Agents;

namespace Cocoon.Agent.Tests.Compute;

public sealed class DeviceCatalogTests
{
    [Fact]
    public void Auto_ends_with_the_simd_kernels_and_never_picks_ilgpus_cpu_emulator()
    {
        using var context = DeviceCatalog.CreateContext();
        var auto = DeviceCatalog.Candidates(context, "auto");
        Assert.Equal("cpu", auto[^1].Choice);
        Assert.Null(auto[^1].Device);
        Assert.DoesNotContain(auto, e => e.Choice == "ilgpu-cpu");
        Assert.All(auto, e => Assert.StartsWith(e.Choice + ": ", e.Info.Name, StringComparison.Ordinal));

        var emulator = Assert.Single(DeviceCatalog.Candidates(context, "ilgpu-cpu"));
        Assert.Equal(DeviceKind.Cpu, emulator.Info.Kind);
        Assert.NotNull(emulator.Device);
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("CPU")]
    [InlineData("")]
    public void An_unknown_word_is_refused_with_every_choice(string word)
    {
        using var context = DeviceCatalog.CreateContext();
        var ex = Assert.Throws<ArgumentException>(() => DeviceCatalog.Candidates(context, word));
        Assert.StartsWith($"Unknown device '{word}': use one of auto, cpu, cuda, opencl, ilgpu-cpu.", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => InferenceDevice.Open(word));
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("ilgpu-cpu")]
    public void Opening_a_choice_gives_the_device_the_catalog_names(string choice)
    {
        using var device = InferenceDevice.Open(choice);
        Assert.StartsWith(choice + ": ", device.Name, StringComparison.Ordinal);
        Assert.Equal(choice == "cpu", device.Gpu is null);
        Assert.Equal(device.Name, device.Info.Name);
        Assert.Contains(device.Info, device.AllDevices);
        Assert.True(device.Info.MemoryBytes > 0);
    }

    [SkippableFact]
    public void Asking_for_a_missing_kind_names_what_the_machine_has()
    {
        using (var context = DeviceCatalog.CreateContext())
        {
            Skip.If(context.Devices.Any(d => DeviceCatalog.KindOf(d) == DeviceKind.OpenCL), "This machine has OpenCL; the message under test cannot arise.");
        }

        var ex = Assert.Throws<InvalidOperationException>(() => InferenceDevice.Open("opencl"));
        Assert.StartsWith("No opencl device is available on this machine (it has: cpu, ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ilgpu-cpu", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_devices_command_lists_what_each_choice_opens()
    {
        var output = new StringWriter();
        DevicesCommand.Write(output);
        var text = output.ToString();
        foreach (var choice in DeviceCatalog.Choices)
        {
            Assert.Matches($"(?m)^{choice} ", text);
        }

        Assert.Matches(@"(?m)^auto .* (cuda|opencl|cpu): ", text);
        Assert.Contains(DeviceCatalog.Cpu.Name, text, StringComparison.Ordinal);
    }
}
