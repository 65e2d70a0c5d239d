namespace Delayed.Core.Queue;

/// <summary>What the claim script answered: a task, nothing, or a stop request for this worker.</summary>
internal readonly struct ClaimReply
{
    private ClaimReply(byte[]? task, bool stopRequested)
    {
        Task = task;
        StopRequested = stopRequested;
    }

    public byte[]? Task { get; }

    public bool StopRequested { get; }

    public static ClaimReply Nothing => default;

    public static ClaimReply Stop => new(null, true);

    public static ClaimReply Of(byte[] task) => new(task, false);
}
