using System;
using Delayed.Core.Queue;
using Delayed.Core.Codec;

namespace Delayed.Core.Worker;

/// <summary>Something a worker did, for its host to log or show.</summary>
public sealed class WorkerEvent
{
    public WorkerEvent(WorkerEventKind kind, string queue, string workerId, DelayedTask? task = null,
        ReadOnlyMemory<byte> rawTask = default, Exception? error = null, TimeSpan duration = default,
        FailureReason? reason = null, long attempt = 0, TimeSpan? retryIn = null, string? taskName = null, string? activity = null)
    {
        Activity = activity;
        Reason = reason;
        Attempt = attempt;
        RetryIn = retryIn;
        TaskName = task?.Name ?? taskName;
        Kind = kind;
        Queue = queue;
        WorkerId = workerId;
        Task = task;
        RawTask = task?.Raw ?? rawTask;
        Error = error;
        Duration = duration;
        Timestamp = DateTime.UtcNow;
    }

    public WorkerEventKind Kind { get; }

    public string Queue { get; }

    public string WorkerId { get; }

    /// <summary>The decoded task; null when it could not be decoded.</summary>
    public DelayedTask? Task { get; }

    /// <summary>The task's bytes as popped, also when they could not be decoded.</summary>
    public ReadOnlyMemory<byte> RawTask { get; }

    public Exception? Error { get; }

    /// <summary>How long the handler ran (task outcomes), or the back-off (worker errors).</summary>
    public TimeSpan Duration { get; }

    public DateTime Timestamp { get; }

    /// <summary>Why a task failed for good (TaskFailed).</summary>
    public FailureReason? Reason { get; }

    /// <summary>Which attempt of the task this was, from 1; 0 when the handler was not run.</summary>
    public long Attempt { get; }

    /// <summary>How long a retried or returned task waits before it is runnable again; zero for at once.</summary>
    public TimeSpan? RetryIn { get; }

    /// <summary>
    /// What the worker was doing when a <see cref="WorkerEventKind.WorkerError"/> came, or what works again
    /// (<see cref="WorkerEventKind.WorkerRecovered"/>), where the kind and queue alone do not say it: e.g. "moving due
    /// scheduled tasks to queue 'jobs'". Null for a slot's claims.
    /// </summary>
    public string? Activity { get; }

    /// <summary>The task's name, also when only its name could be read.</summary>
    public string? TaskName { get; }
}
