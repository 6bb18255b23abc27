using System.CommandLine;

namespace Cocoon.Agent.Cli;

/// <summary>
/// A subcommand's line the parser refuses gets one line per error on stderr and exit code 2, like
/// every other refusal of ours; the parser's own answer adds the whole help page after the error.
/// Errors at the top (no command, an unknown one) keep that page: it lists the commands.
/// </summary>
public static class ParseErrors
{
    public static async Task<int> InvokeAsync(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        if (parse.Errors.Count == 0 || parse.CommandResult.Command is RootCommand)
        {
            return await parse.InvokeAsync();
        }

        foreach (var error in parse.Errors)
        {
            // Some of the parser's messages put each allowed value on a line of its own.
            var message = string.Join(" ", error.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
            await Console.Error.WriteLineAsync($"cocoon-agent: {message}");
        }

        return 2;
    }
}
