using System;

namespace Delayed.Core.Worker;

/// <summary>No handler is registered under a task's name on this worker; the task is put back for one that has it, never run.</summary>
public sealed class UnknownTaskException : Exception
{
    public UnknownTaskException(string name)
        : base($"No handler is registered for task '{name}' on this worker: it was put back for a worker that has one " +
               "(with back-off). Register a handler under exactly that name on the workers of this queue.")
        => TaskName = name;

    public UnknownTaskException(string name, long returns)
        : base($"No worker that took task '{name}' had a handler for it ({returns} times): it went to the failed store. " +
               "Register a handler under exactly that name, then restore it with Get-DelayedTask -Failed | Restore-DelayedTask.")
        => TaskName = name;

    public string TaskName { get; }
}
