using System.CommandLine;
using Cocoon.Agent.Compute;

namespace Cocoon.Agent.Cli;

/// <summary><c>cocoon-agent devices</c>: list the accelerators this machine offers, best first.</summary>
public static class DevicesCommand
{
    public static Command Create()
    {
        var command = new Command("devices", "List the accelerators ILGPU finds on this machine, in the order the agent prefers them.");
        command.SetAction(_ =>
        {
            using var context = DeviceCatalog.CreateContext();
            Console.WriteLine($"{"#",-3}{"kind",-8}{"memory",12}{"units",7}  name");
            var rank = 1;
            foreach (var device in DeviceCatalog.Candidates(context, "auto"))
            {
                var info = DeviceCatalog.Describe(device);
                Console.WriteLine($"{rank++,-3}{info.Kind,-8}{info.MemoryBytes / (1024.0 * 1024 * 1024),9:N1} GiB{info.ComputeUnits,7}  {info.Name}");
            }

            return 0;
        });
        return command;
    }
}
