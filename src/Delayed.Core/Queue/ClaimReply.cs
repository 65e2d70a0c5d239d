namespace Delayed.Core.Queue;

/// <summary>What the claim script answered: a task, nothing, a stop request for this worker, or that its liveness key is gone.</summary>
internal readonly struct ClaimReply
{
    private enum Kind
    {
        Nothing,
        Task,
        Stop,
        Unregistered,
    }

    private readonly Kind _kind;

    private ClaimReply(Kind kind, byte[]? task)
    {
        _kind = kind;
        Task = task;
    }

    public byte[]? Task { get; }

    public bool StopRequested => _kind == Kind.Stop;

    /// <summary>The worker's liveness key was missing, so nothing was claimed: write it again, then claim.</summary>
    public bool Unregistered => _kind == Kind.Unregistered;

    public static ClaimReply Nothing => default;

    public static ClaimReply Stop => new(Kind.Stop, null);

    public static ClaimReply NotRegistered => new(Kind.Unregistered, null);

    public static ClaimReply Of(byte[] task) => new(Kind.Task, task);
}
