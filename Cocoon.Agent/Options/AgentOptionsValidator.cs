using System.ComponentModel.DataAnnotations;
using Cocoon.Agent.Compute;
using Microsoft.Extensions.Options;

namespace Cocoon.Agent.Options;

/// <summary>
/// The data-annotation rules of <see cref="AgentOptions"/>, reported as their own sentences (the
/// stock validator wraps each in "DataAnnotation validation failed for …"), so the CLI can print them as they are.
/// </summary>
public sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        var errors = results.Select(r => r.ErrorMessage ?? "Invalid agent setting.").ToList();
        if (!DeviceCatalog.IsChoice(options.Device))
        {
            errors.Add(DeviceCatalog.MustBeOneOf("Agent:Device", options.Device));
        }

        if (options.Evidence == "tdx" && !Directory.Exists(options.TsmReportPath))
        {
            errors.Add($"Agent:Evidence is tdx but this machine offers no TDX quotes ({options.TsmReportPath} does not exist): run the agent in a TDX guest with configfs-tsm, or use --evidence auto.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
