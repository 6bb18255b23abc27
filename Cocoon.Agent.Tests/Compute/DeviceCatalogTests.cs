using Cocoon.Agent.Compute;
using Cocoon.Shared.Agents;

namespace Cocoon.Agent.Tests.Compute;

public sealed class DeviceCatalogTests
{
    [Fact]
    public void Cpu_is_always_a_candidate_and_comes_last_in_auto()
    {
        using var context = DeviceCatalog.CreateContext();
        var auto = DeviceCatalog.Candidates(context, "auto");
        Assert.NotEmpty(auto);
        Assert.Equal(DeviceKind.Cpu, DeviceCatalog.KindOf(auto[^1]));
        Assert.All(DeviceCatalog.Candidates(context, "cpu"), d => Assert.Equal(DeviceKind.Cpu, DeviceCatalog.KindOf(d)));
    }

    [Fact]
    public void An_unknown_preference_is_refused_with_the_choices()
    {
        using var context = DeviceCatalog.CreateContext();
        var ex = Assert.Throws<ArgumentException>(() => DeviceCatalog.Candidates(context, "tpu"));
        Assert.Contains("auto, cuda, opencl or cpu", ex.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Asking_for_a_missing_kind_names_what_was_found()
    {
        using (var context = DeviceCatalog.CreateContext())
        {
            Skip.If(context.Devices.Any(d => DeviceCatalog.KindOf(d) == DeviceKind.OpenCL), "This machine has OpenCL; the message under test cannot arise.");
        }

        var ex = Assert.Throws<InvalidOperationException>(() => ComputeDevice.Open("opencl"));
        Assert.Contains("No opencl device is available", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Cpu", ex.Message, StringComparison.Ordinal);
    }
}
