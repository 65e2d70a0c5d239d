namespace Delayed.Core.Queue;

/// <summary>Why a task ended in the failed store.</summary>
public enum FailureReason
{
    /// <summary>The handler ran and failed, with no retry budget left.</summary>
    Failed,

    /// <summary>The arguments could not be bound to the handler's parameters: retrying cannot help.</summary>
    BadCall,

    /// <summary>No worker that took it had a handler for its name, for longer than the bound.</summary>
    NoHandler,

    /// <summary>Its bytes are not a task of either shape, or break the plain-data limits.</summary>
    Malformed,

    /// <summary>It ran past the worker's task timeout, with no retry budget left.</summary>
    TimedOut,

    /// <summary>Its worker died while running it more often than the bound.</summary>
    WorkerLost,

    /// <summary>It is larger than the worker's size limit; its bytes never left Redis.</summary>
    Oversize,
}
