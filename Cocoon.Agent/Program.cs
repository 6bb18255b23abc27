using System.CommandLine;
using Cocoon.Agent.Cli;

var root = new RootCommand("Cocoon agent: runs Cocoon work units on this machine's GPU (or CPU) for the portal it is paired with.");
root.Subcommands.Add(PairCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(DevicesCommand.Create());
root.Subcommands.Add(InferCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
return await ParseErrors.InvokeAsync(root.Parse(args));
