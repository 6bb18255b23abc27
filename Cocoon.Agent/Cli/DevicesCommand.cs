using System.CommandLine;
using System.Globalization;
using Cocoon.Agent.Compute;

namespace Cocoon.Agent.Cli;

/// <summary><c>cocoon-agent devices</c>: what each <c>--device</c> word opens on this machine.</summary>
public static class DevicesCommand
{
    public static Command Create()
    {
        var command = new Command("devices", $"List what each --device choice ({DeviceCatalog.ChoiceList}) opens on this machine.");
        command.SetAction(_ =>
        {
            Write(Console.Out);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// One row per choice: the device it opens, or that it has none here. A choice with several devices
    /// lists the rest below it: they are tried in that order when the first fails to open.
    /// </summary>
    public static void Write(TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var context = DeviceCatalog.CreateContext();
        var c = CultureInfo.InvariantCulture;
        output.WriteLine($"{"choice",-11}{"kind",-8}{"memory",12}{"units",7}  opens");
        foreach (var choice in DeviceCatalog.Choices)
        {
            var candidates = DeviceCatalog.Candidates(context, choice);
            if (candidates.Count == 0)
            {
                output.WriteLine($"{choice,-11}{"",-8}{"",12}{"",7}  none on this machine");
            }

            for (var i = 0; i < candidates.Count; i++)
            {
                var info = candidates[i].Info;
                var label = i == 0 ? choice : "";
                var then = i == 0 ? "" : "then ";
                output.WriteLine(string.Create(c, $"{label,-11}{info.Kind,-8}{info.MemoryBytes / (1024.0 * 1024 * 1024),8:N1} GiB{info.ComputeUnits,7}  {then}{info.Name}"));
            }
        }
    }
}
