namespace Delayed.Core.Queue;

/// <summary>What a unique enqueue did with one task: enqueued it, or skipped it (and which tracked task holds the window, if one does).</summary>
public readonly struct UniqueOutcome
{
    public UniqueOutcome(bool enqueued, string? existingTrackingId)
        : this(enqueued, existingTrackingId, null)
    {
    }

    public UniqueOutcome(bool enqueued, string? existingTrackingId, ScheduledEntry? scheduled)
    {
        Enqueued = enqueued;
        ExistingTrackingId = existingTrackingId;
        Scheduled = scheduled;
    }

    public bool Enqueued { get; }

    /// <summary>For a skipped task: the id of the tracked task enqueued within the window, or null when that one is untracked.</summary>
    public string? ExistingTrackingId { get; }

    /// <summary>For a task enqueued with a delay or a time: its schedule entry, due by the server's clock; else null.</summary>
    public ScheduledEntry? Scheduled { get; }
}
