namespace Delayed.Core.Queue;

/// <summary>What the claim script answered: a task, nothing, a stop request for this worker, or that its liveness key is gone.</summary>
internal readonly struct ClaimReply
{
    private ClaimReply(byte[]? task, bool stopRequested, bool unregistered)
    {
        Task = task;
        StopRequested = stopRequested;
        Unregistered = unregistered;
    }

    public byte[]? Task { get; }

    public bool StopRequested { get; }

    /// <summary>The worker's liveness key was missing, so nothing was claimed: write it again, then claim.</summary>
    public bool Unregistered { get; }

    public static ClaimReply Nothing => default;

    public static ClaimReply Stop => new(null, true, false);

    public static ClaimReply NotRegistered => new(null, false, true);

    public static ClaimReply Of(byte[] task) => new(task, false, false);
}
