namespace Delayed.Core.Queue;

/// <summary>
/// What the claim script answered: a task (with its counters), nothing, a stop request for this worker, that its
/// liveness key is gone, or that the task it popped was over the size limit and went to the failed store.
/// </summary>
internal readonly struct ClaimReply
{
    private enum Kind
    {
        Nothing,
        Task,
        Stop,
        Unregistered,
        Oversize,
        Paused,
    }

    private readonly Kind _kind;

    private ClaimReply(Kind kind, byte[]? task, long attempts = 0, long returns = 0, long size = 0, int source = 0, string? trackingId = null, long? waitedMs = null,
        int[]? pausedSources = null)
    {
        PausedSources = pausedSources;
        TrackingId = trackingId;
        WaitedMilliseconds = waitedMs;
        Source = source;
        _kind = kind;
        Task = task;
        Attempts = attempts;
        Returns = returns;
        OversizeBytes = size;
    }

    public byte[]? Task { get; }

    /// <summary>The id of a tracked task (its record now says running); null for an untracked one.</summary>
    public string? TrackingId { get; }

    /// <summary>
    /// How long a tracked task waited in the list before this claim, by the server's clock; null when not known (an
    /// untracked task: the wire format has no enqueue time).
    /// </summary>
    public long? WaitedMilliseconds { get; }

    /// <summary>For a worker of several queues: the position, among the queues claimed from, of the task's queue.</summary>
    public int Source { get; }

    /// <summary>
    /// For a worker of several queues whose claim found no task: the positions, among the queues claimed from, of those
    /// that are paused (not all of them: then the reply is <see cref="Paused"/>); null when none is.
    /// </summary>
    public int[]? PausedSources { get; }

    /// <summary>Attempts of the claimed task that failed before (its counters).</summary>
    public long Attempts { get; }

    /// <summary>Times the claimed task was put back for want of a handler.</summary>
    public long Returns { get; }

    public bool StopRequested => _kind == Kind.Stop;

    /// <summary>The queue is paused: nothing was claimed, and a token taken was put back.</summary>
    public bool Paused => _kind == Kind.Paused;

    /// <summary>The worker's liveness key was missing, so nothing was claimed: write it again, then claim.</summary>
    public bool Unregistered => _kind == Kind.Unregistered;

    /// <summary>The size of a task over the limit, which the script moved to the failed store; 0 otherwise.</summary>
    public long OversizeBytes { get; }

    /// <summary>Whether the claim took a task: one to run, or one over the size limit to fail unread.</summary>
    public bool Claimed => Task is not null || OversizeBytes > 0;

    public static ClaimReply Nothing => default;

    public static ClaimReply Stop => new(Kind.Stop, null);

    public static ClaimReply PausedQueue => new(Kind.Paused, null);

    /// <summary>No task, and these of the queues claimed from are paused (but not all of them).</summary>
    public static ClaimReply NothingWithPaused(int[] pausedSources) => new(Kind.Nothing, null, pausedSources: pausedSources);

    public static ClaimReply NotRegistered => new(Kind.Unregistered, null);

    public static ClaimReply Oversize(long size, int source = 0) => new(Kind.Oversize, null, size: size, source: source);

    public static ClaimReply Of(byte[] task, long attempts = 0, long returns = 0, int source = 0, string? trackingId = null, long? waitedMs = null) =>
        new(Kind.Task, task, attempts, returns, source: source, trackingId: trackingId, waitedMs: waitedMs);
}
