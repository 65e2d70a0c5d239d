using System.Threading;
using Delayed.Core.Codec;

namespace Delayed.Core.Worker;

/// <summary>One task as a handler sees it.</summary>
public sealed class TaskContext
{
    public TaskContext(DelayedTask task, string queue, string workerId, long attempt = 1, string? trackingId = null, CancellationToken cancellationToken = default,
        CancellationToken timeoutToken = default, CancellationToken interruptToken = default)
    {
        TrackingId = trackingId;
        InterruptToken = interruptToken;
        Attempt = attempt;
        Task = task;
        Queue = queue;
        WorkerId = workerId;
        CancellationToken = cancellationToken;
        TimeoutToken = timeoutToken;
    }

    public DelayedTask Task { get; }

    /// <summary>The id of a tracked task, whose caller waits for its outcome and output; null for an untracked one.</summary>
    public string? TrackingId { get; }

    /// <summary>
    /// For a tracked task: what the handler gave back, serialized by the host that ran it (the worker stores it with the
    /// outcome). Set before the handler's task completes; left null, the task is recorded without output.
    /// </summary>
    public byte[]? Output { get; set; }

    /// <summary>For a tracked task: what a .NET handler returned (a Task's result awaited), which the worker serializes as its output.</summary>
    public object? Result { get; set; }

    /// <summary>Which attempt this is, from 1: one more than the runs of the same task that failed before.</summary>
    public long Attempt { get; }

    public string Queue { get; }

    public string WorkerId { get; }

    /// <summary>Signalled when the worker is asked to stop or the task runs past its timeout: a handler may end early on it.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// Signalled only when the task runs past its timeout. A host that can abort a handler by force (a
    /// PowerShell instance) does so on this token alone, so that a graceful stop lets running tasks finish.
    /// </summary>
    public CancellationToken TimeoutToken { get; }

    /// <summary>
    /// Signalled when the worker is told to stop its running tasks now (a second Ctrl+C): a host that can abort a
    /// handler by force does so, and the task goes back to the queue unchanged.
    /// </summary>
    public CancellationToken InterruptToken { get; }
}
