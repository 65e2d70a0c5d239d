using System;

namespace Delayed;

/// <summary>A task in the failed store, as Get-DelayedTask -Failed shows it.</summary>
public sealed class FailedTask : TaskSnapshot
{
    internal FailedTask(Queue queue, Core.Queue.FailedEntry entry)
        : base(queue, entry.Raw)
    {
        FailureId = entry.Id;
        FailedAt = entry.FailedAt.ToLocalTime();
        Reason = entry.Reason;
        Error = entry.Error;
        Attempts = entry.Attempts;
        Worker = entry.WorkerId;
        Host = entry.Host;
    }

    /// <summary>Its id in the failed store, for Restore-DelayedTask and Remove-DelayedTask.</summary>
    public string FailureId { get; }

    /// <summary>When it failed (local time, with its offset).</summary>
    public DateTimeOffset FailedAt { get; }

    /// <summary>Failed, BadCall, NoHandler, Malformed, TimedOut, WorkerLost or Oversize.</summary>
    public string Reason { get; }

    /// <summary>The last error message.</summary>
    public string Error { get; }

    /// <summary>How many times a handler ran it and it failed.</summary>
    public long Attempts { get; }

    /// <summary>The id of the worker it failed on.</summary>
    public string Worker { get; }

    /// <summary>The machine of that worker; empty for a task lost with its worker (WorkerLost).</summary>
    public string Host { get; }
}
