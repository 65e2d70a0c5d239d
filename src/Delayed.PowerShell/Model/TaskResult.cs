using System;

namespace Delayed;

/// <summary>One task run by Start-DelayedWorker -PassThru.</summary>
public sealed class TaskResult
{
    internal TaskResult(string queue, string? name, string workerId, TaskStatus status, TimeSpan duration, string? error, string? reason = null, long attempt = 0)
    {
        Reason = reason;
        Attempt = attempt;
        Queue = queue;
        Name = name;
        WorkerId = workerId;
        Status = status;
        Duration = duration;
        Error = error;
    }

    public string Queue { get; }

    /// <summary>The task's name; empty when its bytes could not be decoded.</summary>
    public string? Name { get; }

    public string WorkerId { get; }
    public TaskStatus Status { get; }
    public TimeSpan Duration { get; }
    public string? Error { get; }

    /// <summary>Why a Failed task failed: Failed, BadCall, NoHandler, Malformed, TimedOut, Oversize.</summary>
    public string? Reason { get; }

    /// <summary>Which attempt of the task this was, from 1; 0 when no handler ran it.</summary>
    public long Attempt { get; }
}
