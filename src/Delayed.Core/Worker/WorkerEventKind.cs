namespace Delayed.Core.Worker;

public enum WorkerEventKind
{
    TaskStarted,
    TaskSucceeded,
    /// <summary>The handler failed, or the call was bad, and the task was released.</summary>
    TaskFailed,
    /// <summary>The handler failed and the task was re-enqueued with its retry budget decremented.</summary>
    TaskRetried,
    /// <summary>Interrupted by a stop request (the handler observed its token) and put back unchanged; counted as retried.</summary>
    TaskInterrupted,
    /// <summary>Undecodable bytes or an unknown name: released without running.</summary>
    TaskDropped,
    /// <summary>A Redis operation of the worker failed; it backs off and goes on.</summary>
    WorkerError,
}
