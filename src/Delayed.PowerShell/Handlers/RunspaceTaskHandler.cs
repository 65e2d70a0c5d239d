using System;
using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Threading.Tasks;
using Delayed.Core.Worker;

namespace Delayed.PowerShell.Handlers;

/// <summary>
/// Runs a scriptblock or command handler in the runspace of the worker slot that took the task: the handler
/// is called as a command of that runspace (where $ErrorActionPreference is 'Stop'), positional arguments as
/// arguments and named ones as parameters, without a wrapper script. Its streams are merged into its output and
/// passed on to the worker as they are written. A task timeout or an interrupt stops the invocation; a stop
/// request lets it finish.
/// </summary>
internal sealed class RunspaceTaskHandler : PowerShellTaskHandler
{
    private readonly string _command;
    private readonly HandlerRunspaces _runspaces;
    private readonly HandlerStreams _streams;

    // command: the function or command to call in the slot's runspace.
    public RunspaceTaskHandler(string name, string command, HandlerSignature signature, HandlerRunspaces runspaces, HandlerStreams streams)
        : base(name, signature)
    {
        _command = command;
        _runspaces = runspaces;
        _streams = streams;
    }

    public override async Task InvokeAsync(TaskContext context)
    {
        var (positional, named) = BindArguments(context.Task);
        using var powerShell = System.Management.Automation.PowerShell.Create();
        powerShell.Runspace = _runspaces.For(context.WorkerId);
        // The slot's runspace is idle between its tasks, so its variables can be set from here.
        powerShell.Runspace.SessionStateProxy.SetVariable(TaskVariable, RunningTask.Of(context));
        powerShell.AddCommand(_command);
        foreach (var argument in positional) powerShell.AddArgument(argument);
        foreach (DictionaryEntry parameter in named) powerShell.AddParameter((string)parameter.Key, parameter.Value);
        powerShell.Commands.Commands[0].MergeMyResults(PipelineResultTypes.All, PipelineResultTypes.Output);
        using var output = new PSDataCollection<PSObject>();
        using var run = _streams.Begin(context);
        // Raised on the runspace's thread as each item is written: the worker hears of it while the task runs.
        output.DataAdded += (_, added) => run.Add(output[added.Index]);
        try
        {
            var invocation = powerShell.BeginInvoke<PSObject, PSObject>(null, output);
            // A timeout or an interrupt (a second Ctrl+C) stops the instance; on a mere stop request a running task finishes.
            // Registered once the invocation runs: a stop before it would be lost, and one already due now runs at once.
            using var timeout = context.TimeoutToken.Register(() => powerShell.BeginStop(null, null));
            using var interrupt = context.InterruptToken.Register(() => powerShell.BeginStop(null, null));
            await Task.Factory.FromAsync(invocation, powerShell.EndInvoke).ConfigureAwait(false);
            // 'exit' ends the invocation without an error: only the runspace's host hears of it.
            if (_runspaces.TakeExit(powerShell.Runspace) is { } code) throw new InvalidOperationException(ExitMessage(code.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        catch (Exception e)
        {
            var translated = Translate(e, context, _command);
            if (ReferenceEquals(translated, e)) throw;
            throw translated;
        }

    }

}
