namespace Delayed.Core.Worker;

public enum WorkerEventKind
{
    TaskStarted,
    TaskSucceeded,
    /// <summary>The task failed for good (see <see cref="WorkerEvent.Reason"/>) and went to the failed store.</summary>
    TaskFailed,
    /// <summary>The handler failed and the task was put back with its retry budget decremented, after <see cref="WorkerEvent.RetryIn"/>.</summary>
    TaskRetried,
    /// <summary>Interrupted by a stop request (the handler observed its token) and put back unchanged; counted as retried.</summary>
    TaskInterrupted,
    /// <summary>No handler for its name here: put back for a worker that has one, after <see cref="WorkerEvent.RetryIn"/>.</summary>
    TaskReturned,
    /// <summary>A tracked task was stopped on its caller's request (Stop-Job) while it ran: not retried, not kept as a failure.</summary>
    TaskStopped,
    /// <summary>A Redis operation of the worker failed; it backs off and goes on.</summary>
    WorkerError,
    /// <summary>
    /// A loop of the worker whose calls had failed (a slot's claims, the keep-alive refreshes, the promotion) got an answer
    /// again; <see cref="WorkerEvent.Duration"/> since its first failure.
    /// </summary>
    WorkerRecovered,
    /// <summary>The queue is paused (Suspend-DelayedQueue): the worker takes no task until it is resumed. Once per pause.</summary>
    QueuePaused,
    /// <summary>The queue was resumed after a pause this worker noticed: it takes tasks again.</summary>
    QueueResumed,
}
