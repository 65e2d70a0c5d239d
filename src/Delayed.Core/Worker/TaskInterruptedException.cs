using System;

namespace Delayed.Core.Worker;

/// <summary>
/// The handler was stopped because what runs it is stopping (Ctrl+C, the pipeline or runspace closing), not because it
/// failed: its task goes back unchanged, and the worker stops. A handler may learn of the stop before the worker does
/// (PowerShell stops a pipeline's innermost commands before it tells the cmdlet that runs them), so this does not wait for
/// the worker's own stop request to say so.
/// </summary>
public sealed class TaskInterruptedException : OperationCanceledException
{
    public TaskInterruptedException(string message) : base(message) { }
    public TaskInterruptedException(string message, Exception inner) : base(message, inner) { }
}
