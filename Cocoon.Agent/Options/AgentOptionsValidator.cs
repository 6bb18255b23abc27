using System.ComponentModel.DataAnnotations;
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
        var results = new List<ValidationResult>();
        return Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(results.Select(r => r.ErrorMessage ?? "Invalid agent setting."));
    }
}
