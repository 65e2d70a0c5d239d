using System;
using Delayed.Core.Queue;

namespace Delayed;

/// <summary>A tracked task (Add-DelayedTask -AsJob) as Get-DelayedTask -Id shows it: its state, and the task itself.</summary>
public sealed class TrackedTaskInfo : TaskSnapshot
{
    internal TrackedTaskInfo(Queue queue, TrackedTask record)
        : base(queue, record.Bytes ?? Array.Empty<byte>())
    {
        Id = record.Id;
        State = (TrackedTaskState)Enum.Parse(typeof(TrackedTaskState), record.State.ToString());
        DueAt = record.DueAt?.ToLocalTime();
        WorkerId = record.WorkerId;
        StartedAt = record.StartedAt?.ToLocalTime();
        EndedAt = record.EndedAt?.ToLocalTime();
        Attempt = record.Attempt;
        Duration = record.Duration;
        Reason = record.Reason;
        Error = record.Error;
    }

    /// <summary>The task's id on its queue.</summary>
    public string Id { get; }

    public TrackedTaskState State { get; }

    /// <summary>When a scheduled task is due.</summary>
    public DateTimeOffset? DueAt { get; }

    /// <summary>The worker that runs it, or ran it when it failed.</summary>
    public string? WorkerId { get; }

    public DateTimeOffset? StartedAt { get; }

    public DateTimeOffset? EndedAt { get; }

    /// <summary>The attempt that ended it, from 1.</summary>
    public long Attempt { get; }

    public TimeSpan? Duration { get; }

    /// <summary>Why it failed (Failed, BadCall, TimedOut, WorkerLost, ...) or was stopped.</summary>
    public string? Reason { get; }

    public string? Error { get; }
}
