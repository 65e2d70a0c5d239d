namespace Delayed;

/// <summary>How a task ended on a worker (TaskResult.Status); named apart from System.Threading.Tasks.TaskStatus.</summary>
public enum TaskOutcome
{
    Succeeded,
    Failed,
    /// <summary>Put back: failed with retry budget left (after its back-off), or interrupted by a stop.</summary>
    Retried,
    /// <summary>Put back without running for a worker that has a handler for its name.</summary>
    Returned,
    /// <summary>A tracked task stopped by its caller (Stop-Job) while it ran: not retried.</summary>
    Stopped,
}
