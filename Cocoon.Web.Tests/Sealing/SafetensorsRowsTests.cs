using System.Buffers.Binary;
using System.Text;
using Cocoon.Web.Tests.Infrastructure;

namespace Cocoon.Web.Tests.Sealing;

/// <summary>The browser reads a dataset's rows from its safetensors header before sealing it (run here with node).</summary>
public sealed class SafetensorsRowsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cocoon-safetensors-").FullName;

    [Theory]
    [InlineData("""{"x":{"dtype":"F32","shape":[128,3,32,32],"data_offsets":[0,0]},"y":{"dtype":"I64","shape":[128],"data_offsets":[0,0]},"__metadata__":{"source":"test"}}""", 0, "128")]
    [InlineData("""{"x":{"dtype":"F32","shape":[4,2],"data_offsets":[0,0]},"y":{"dtype":"F32","shape":[5],"data_offsets":[0,0]}}""", 3, "share its first")]
    [InlineData("""{"x":{"dtype":"F32","shape":[],"data_offsets":[0,0]}}""", 3, "share its first")]
    [InlineData("""{"__metadata__":{}}""", 3, "no tensors")]
    [InlineData("""not json""", 3, "not JSON")]
    public async Task Rows_come_from_the_header_or_a_clear_refusal(string header, int exitCode, string expected)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + json.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        var path = Path.Combine(_dir, "data.safetensors");
        await File.WriteAllBytesAsync(path, file);

        var (code, output, error) = await Node.RunAsync("test/sealing.mjs", "rows", path);
        Assert.Equal(exitCode, code);
        Assert.Contains(expected, code == 0 ? output : error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_that_is_not_safetensors_is_refused()
    {
        var path = Path.Combine(_dir, "model.onnx");
        await File.WriteAllBytesAsync(path, [0x08, 0x07, 0x12, 0x00, 0xff, 0xff, 0xff, 0xff, 0x01]);
        var (code, _, error) = await Node.RunAsync("test/sealing.mjs", "rows", path);
        Assert.Equal(3, code);
        Assert.Contains("not a safetensors file", error, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
