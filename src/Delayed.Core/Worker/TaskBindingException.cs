using System;

namespace Delayed.Core.Worker;

/// <summary>
/// The handler was found but the task's arguments do not fit it: a bad call, never retried (checklist 22).
/// </summary>
public sealed class TaskBindingException : Exception
{
    public TaskBindingException(string message) : base(message) { }
    public TaskBindingException(string message, Exception inner) : base(message, inner) { }
}
