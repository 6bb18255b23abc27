using Cocoon.Agent.Compute;
using Cocoon.Agent.Work;
using Cocoon.Shared.Agents;
using Cocoon.Shared.Work;

namespace Cocoon.Agent.Tests.Compute;

/// <summary>The ILGPU kernel against the plain C# reference, on ILGPU's CPU accelerator at tiny sizes.</summary>
public sealed class MatMulKernelTests : IClassFixture<CpuDeviceFixture>
{
    private readonly ComputeDevice _device;

    public MatMulKernelTests(CpuDeviceFixture fixture) => _device = fixture.Device;

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    [InlineData(3, 2)]
    [InlineData(7, 4)]
    [InlineData(16, 2)]
    [InlineData(33, 1)]
    public void Random_floats_match_the_reference_within_rounding(int n, int count)
    {
        var random = new Random(n * 31 + count);
        var a = RandomFloats(random, n * n * count);
        var b = RandomFloats(random, n * n * count);
        var device = new float[n * n * count];
        var expected = new float[n * n * count];

        _device.MultiplyBatch(a, b, device, n, count);
        MatMulReference.MultiplyBatch(a, b, expected, n, count);

        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(device[i] - expected[i]) <= 1e-4f * (1 + Math.Abs(expected[i])),
                $"element {i}: device {device[i]} vs reference {expected[i]}");
        }
    }

    [Fact]
    public void Generated_integer_inputs_give_bit_identical_products()
    {
        const int n = 24;
        const int count = 3;
        var a = new float[n * n * count];
        var b = new float[n * n * count];
        for (var m = 0; m < count; m++)
        {
            MatMulInputs.Fill(seed: 42, matrixIndex: m, n, a.AsSpan(m * n * n, n * n), b.AsSpan(m * n * n, n * n));
        }

        var device = new float[a.Length];
        var expected = new float[a.Length];
        _device.MultiplyBatch(a, b, device, n, count);
        MatMulReference.MultiplyBatch(a, b, expected, n, count);

        Assert.Equal(expected, device);
    }

    [Fact]
    public void Reused_buffers_give_the_same_answer_after_a_larger_call()
    {
        var random = new Random(5);
        var big = RandomFloats(random, 8 * 8 * 4);
        _device.MultiplyBatch(big, big, new float[big.Length], 8, 4);

        float[] a = [1, 2, 3, 4];
        float[] b = [5, 6, 7, 8];
        var c = new float[4];
        _device.MultiplyBatch(a, b, c, 2, 1);

        Assert.Equal([19f, 22f, 43f, 50f], c);
    }

    [Fact]
    public void Too_small_buffers_are_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => _device.MultiplyBatch(new float[3], new float[4], new float[4], 2, 1));
        Assert.Contains("4 floats", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_cpu_device_describes_itself()
    {
        Assert.Equal(DeviceKind.Cpu, _device.Info.Kind);
        Assert.True(_device.Info.MemoryBytes > 0);
        Assert.True(_device.Info.ComputeUnits >= 1);
        Assert.Contains(_device.AllDevices, d => d.Kind == DeviceKind.Cpu);
    }

    private static float[] RandomFloats(Random random, int length)
    {
        var values = new float[length];
        for (var i = 0; i < length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}
