namespace Delayed.Core.Queue;

/// <summary>What a unique enqueue did with one task: enqueued it, or skipped it (and which tracked task holds the window, if one does).</summary>
public readonly struct UniqueOutcome
{
    public UniqueOutcome(bool enqueued, string? existingTrackingId)
    {
        Enqueued = enqueued;
        ExistingTrackingId = existingTrackingId;
    }

    public bool Enqueued { get; }

    /// <summary>For a skipped task: the id of the tracked task enqueued within the window, or null when that one is untracked.</summary>
    public string? ExistingTrackingId { get; }
}
