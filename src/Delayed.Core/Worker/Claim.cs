using Delayed.Core.Queue;

namespace Delayed.Core.Worker;

/// <summary>What one claim of a slot came to.</summary>
internal enum ClaimOutcome
{
    /// <summary>A task to run (or, over the size limit, to fail without reading).</summary>
    Task,

    /// <summary>No task: the wait timed out, or a token had no task behind it.</summary>
    Nothing,

    /// <summary>No task waiting: the slot waits on the tokens next (never the outcome of a whole claim).</summary>
    Idle,

    /// <summary>No task waiting, and the worker stops when the queue is empty.</summary>
    Empty,

    /// <summary>An admin asked the worker to stop.</summary>
    Stop,

    /// <summary>The queue is paused.</summary>
    Paused,

    /// <summary>The slot's liveness key was gone; it is written again.</summary>
    Unregistered,

    /// <summary>The claim failed (Redis away, or a refresh that failed), and was reported.</summary>
    Failed,
}

/// <summary>A claim's outcome, with the task and its queue when it brought one.</summary>
internal readonly struct Claim
{
    public Claim(ClaimOutcome outcome, ClaimReply reply = default, DelayedQueue? queue = null)
    {
        Outcome = outcome;
        Reply = reply;
        Queue = queue;
    }

    public ClaimOutcome Outcome { get; }

    /// <summary>The claimed task; default unless <see cref="Outcome"/> is <see cref="ClaimOutcome.Task"/>.</summary>
    public ClaimReply Reply { get; }

    public DelayedQueue? Queue { get; }
}
