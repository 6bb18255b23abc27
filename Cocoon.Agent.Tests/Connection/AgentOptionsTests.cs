using System.ComponentModel.DataAnnotations;
using Cocoon.Agent.Options;

namespace Cocoon.Agent.Tests.Connection;

public sealed class AgentOptionsTests
{
    [Theory]
    [InlineData("", "Agent:PortalUrl is not set")]
    [InlineData("not a url", "Agent:PortalUrl must be an absolute")]
    public void A_bad_portal_url_is_named(string url, string message)
    {
        var errors = Validate(new AgentOptions { PortalUrl = url });
        Assert.Contains(errors, e => e.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Device_and_capacity_are_checked()
    {
        var errors = Validate(new AgentOptions { PortalUrl = "http://127.0.0.1:5080", Device = "gpu", Capacity = 0 });
        Assert.Contains(errors, e => e.Contains("Agent:Device", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Agent:Capacity", StringComparison.Ordinal));
    }

    [Fact]
    public void Good_settings_pass()
    {
        Assert.Empty(Validate(new AgentOptions { PortalUrl = "https://portal.example.com", Device = "cuda", Capacity = 4 }));
    }

    private static List<string> Validate(AgentOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(r => r.ErrorMessage ?? "")];
    }
}
