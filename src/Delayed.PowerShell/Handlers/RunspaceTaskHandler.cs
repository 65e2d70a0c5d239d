using System;
using System.Management.Automation;
using System.Threading.Tasks;
using Delayed.Core.Worker;

namespace Delayed.PowerShell.Handlers;

/// <summary>
/// Runs a scriptblock or command handler in the runspace of the worker slot that took the task, as a
/// PowerShell instance of its own: the worker's stop and timeout token stops that instance.
/// </summary>
internal sealed class RunspaceTaskHandler : PowerShellTaskHandler
{
    private readonly string _command;
    private readonly HandlerRunspaces _runspaces;

    // command: the function or command to call in the slot's runspace.
    public RunspaceTaskHandler(string name, string command, HandlerSignature signature, HandlerRunspaces runspaces)
        : base(name, signature)
    {
        _command = command;
        _runspaces = runspaces;
    }

    public override async Task InvokeAsync(TaskContext context)
    {
        context.CancellationToken.ThrowIfCancellationRequested();
        var (positional, named) = BindArguments(context.Task);
        using var powerShell = System.Management.Automation.PowerShell.Create();
        powerShell.Runspace = _runspaces.For(context.WorkerId);
        powerShell.AddScript(WrapperText).AddArgument(_command).AddArgument(positional).AddArgument(named);
        using var stop = context.CancellationToken.Register(() => powerShell.BeginStop(null, null));
        try
        {
            await Task.Factory.FromAsync(powerShell.BeginInvoke(), powerShell.EndInvoke).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var translated = Translate(e, context);
            if (ReferenceEquals(translated, e)) throw;
            throw translated;
        }
    }
}
