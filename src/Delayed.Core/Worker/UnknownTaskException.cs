using System;

namespace Delayed.Core.Worker;

/// <summary>No handler is registered under a task's name; the task is released, never run.</summary>
public sealed class UnknownTaskException : Exception
{
    public UnknownTaskException(string name)
        : base($"No handler is registered for task '{name}'; the task was dropped. Register a handler under exactly that name on the workers of this queue.")
        => TaskName = name;

    public string TaskName { get; }
}
