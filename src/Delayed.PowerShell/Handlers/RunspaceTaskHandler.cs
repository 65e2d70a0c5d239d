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

    /// <summary>
    /// Runs the handler on the calling thread, which the worker makes a thread of the slot's own (never the thread pool),
    /// and returns a completed task: the slot then claims its next task from this same thread.
    /// </summary>
    public override Task InvokeAsync(TaskContext context)
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
        // Raised on this thread as each item is written: the worker hears of it while the task runs.
        output.DataAdded += (_, added) => run.Add(output[added.Index]);
        // A timeout or an interrupt (a second Ctrl+C) stops the invocation; on a mere stop request a running task
        // finishes. A stop that lands while the invocation is starting (after a token was found not yet cancelled, before
        // the pipeline runs) could be missed, so it is asked for again as the invocation starts running.
        void StopIfAsked()
        {
            if (context.TimeoutToken.IsCancellationRequested || context.InterruptToken.IsCancellationRequested) powerShell.BeginStop(null, null);
        }
        powerShell.InvocationStateChanged += (_, changed) =>
        {
            if (changed.InvocationStateInfo.State == PSInvocationState.Running) StopIfAsked();
        };
        using var timeout = context.TimeoutToken.Register(StopIfAsked);
        using var interrupt = context.InterruptToken.Register(StopIfAsked);
        try
        {
            powerShell.Invoke<PSObject, PSObject>(null, output, null);
            // A stopped invocation can return rather than throw when it runs on the caller's thread.
            if (powerShell.InvocationStateInfo.State == PSInvocationState.Stopped) throw new PipelineStoppedException();
            // 'exit' ends the invocation without an error: only the runspace's host hears of it.
            if (_runspaces.TakeExit(powerShell.Runspace) is { } code) throw new InvalidOperationException(ExitMessage(code.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return Task.CompletedTask;
        }
        catch (Exception e)
        {
            return Task.FromException(Translate(e, context, _command));
        }
    }
}
