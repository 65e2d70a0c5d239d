using System;
using System.Management.Automation;
using Delayed.Core.Worker;

namespace Delayed.PowerShell.Handlers;

/// <summary>
/// Where a handler's warnings, errors, verbose, debug and information records (Write-Host's among them) go while
/// its task runs: to the worker, which writes them to its own streams or as log lines, in every run mode alike
/// (a foreground handler's too: otherwise they would reach the session past the worker, so that -WarningVariable,
/// -WarningAction and -LogFormat Json missed them).
/// </summary>
internal sealed class HandlerStreams
{
    private volatile Action<TaskContext, object?>? _target;

    /// <summary>Sets who receives the records; until then (no task runs before the worker does) they are dropped.</summary>
    public void ConnectTo(Action<TaskContext, object?> target) => _target = target;

    /// <summary>One record or output object of the handler running <paramref name="context"/>; callable from any thread.</summary>
    public void Write(TaskContext context, object? item) =>
        _target?.Invoke(context, item is PSObject { BaseObject: not PSCustomObject } wrapped ? wrapped.BaseObject : item);
}
