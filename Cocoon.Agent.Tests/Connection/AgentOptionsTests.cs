using System.CommandLine;
using Cocoon.Agent.Cli;
using Cocoon.Agent.Options;

namespace Cocoon.Agent.Tests.Connection;

[Collection(ConsoleCollection.Name)]
public sealed class AgentOptionsTests
{
    [Theory]
    [InlineData("", "Agent:PortalUrl is not set")]
    [InlineData("not a url", "Agent:PortalUrl must be an absolute")]
    public void A_bad_portal_url_is_named(string url, string message)
    {
        var errors = Validate(new AgentOptions { PortalUrl = url });
        Assert.Contains(errors, e => e.StartsWith(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Device_and_capacity_are_checked()
    {
        var errors = Validate(new AgentOptions { PortalUrl = "http://127.0.0.1:5080", Device = "gpu", Capacity = 0 });
        Assert.Contains(errors, e => e.StartsWith("Agent:Device", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Agent:Capacity", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("cpu")]
    [InlineData("cuda")]
    [InlineData("opencl")]
    [InlineData("ilgpu-cpu")]
    public void Every_device_choice_is_accepted(string device)
    {
        Assert.Empty(Validate(new AgentOptions { PortalUrl = "http://127.0.0.1:5080", Device = device }));
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("CUDA")]
    [InlineData("")]
    public void A_bad_device_is_named_with_every_choice(string device)
    {
        var error = Assert.Single(Validate(new AgentOptions { PortalUrl = "http://127.0.0.1:5080", Device = device }));
        Assert.Equal($"Agent:Device must be one of auto, cpu, cuda, opencl, ilgpu-cpu (it is '{device}').", error);
    }

    [Fact]
    public void Good_settings_pass()
    {
        Assert.Empty(Validate(new AgentOptions { PortalUrl = "https://portal.example.com", Device = "cuda", Capacity = 4 }));
    }

    [Fact]
    public void Tdx_evidence_is_refused_at_start_where_the_machine_offers_no_quotes()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-tsm-" + Guid.NewGuid().ToString("N"));
        var errors = Validate(new AgentOptions { PortalUrl = "http://127.0.0.1:5080", Evidence = "tdx", TsmReportPath = missing });
        Assert.Contains(errors, e => e.Contains("offers no TDX quotes", StringComparison.Ordinal) && e.Contains(missing, StringComparison.Ordinal));
        Assert.Empty(Validate(new AgentOptions { PortalUrl = "http://127.0.0.1:5080", Evidence = "auto", TsmReportPath = missing }));
        Assert.Contains(Validate(new AgentOptions { PortalUrl = "http://127.0.0.1:5080", Evidence = "sgx" }), e => e.StartsWith("Agent:Evidence", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Agent:Capacity", "0", "cocoon-agent: Agent:Capacity must be between 1 and 64.")]
    [InlineData("Agent:Device", "gpu", "cocoon-agent: Agent:Device must be one of auto, cpu, cuda, opencl, ilgpu-cpu (it is 'gpu').")]
    public async Task The_cli_prints_one_line_and_exits_non_zero_on_a_bad_setting(string key, string value, string message)
    {
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        int code;
        try
        {
            code = await RunCommand.RunAsync(new Dictionary<string, string?> { [key] = value, ["Agent:PortalUrl"] = "http://127.0.0.1:1" }, CancellationToken.None);
        }
        finally
        {
            Console.SetError(original);
        }

        Assert.Equal(2, code);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(message, line.TrimEnd());
    }

    [Theory]
    [InlineData("run --device gpu")]
    [InlineData("infer --model m.onnx --input x.npz --output y.npz --device gpu")]
    [InlineData("bench --device gpu")]
    public async Task A_bad_device_word_on_the_command_line_is_one_line_naming_every_choice(string line)
    {
        var root = new RootCommand();
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(InferCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        int code;
        try
        {
            code = await ParseErrors.InvokeAsync(root.Parse(line));
        }
        finally
        {
            Console.SetError(original);
        }

        Assert.Equal(2, code);
        Assert.Equal("cocoon-agent: --device must be one of auto, cpu, cuda, opencl, ilgpu-cpu (it is 'gpu').", error.ToString().TrimEnd());
    }

    private static List<string> Validate(AgentOptions options)
    {
        var result = new AgentOptionsValidator().Validate(null, options);
        return result.Failed ? [.. result.Failures] : [];
    }
}
