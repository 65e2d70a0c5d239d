using System;
using System.Threading.Tasks;
using Delayed.Core.Queue;
using Delayed.Core.Redis;

namespace Delayed.Core.Worker;

/// <summary>What one slot of a worker carries from one claim to the next.</summary>
internal sealed class Slot
{
    private readonly Func<Task<BlockingConnection>> _openSpare;

    public Slot(string id, Func<Task<BlockingConnection>> openSpare, DirectConnection? direct, HandlerThread handlerThread, DelayedQueue firstQueue, Backoff backoff)
    {
        Id = id;
        HandlerThread = handlerThread;
        _openSpare = openSpare;
        Direct = direct;
        HeldQueue = firstQueue;
        Backoff = backoff;
    }

    /// <summary>The slot's worker id (its liveness key).</summary>
    public string Id { get; }

    /// <summary>
    /// Its spare connection for the blocking wait on the tokens, opened when first needed: while its direct connection
    /// rests after a failure, or without one (DirectClaims off). A worker whose slots wait on their direct connections
    /// keeps one connection per slot fewer (on a cluster, a multiplexer's connection to every node).
    /// </summary>
    public async Task<BlockingConnection> SpareAsync() => Spare ??= await _openSpare().ConfigureAwait(false);

    /// <summary>The spare connection, once opened; null before.</summary>
    public BlockingConnection? Spare { get; private set; }

    /// <summary>Its thread for starting .NET handlers when the claim's reply came on a thread not its own.</summary>
    public HandlerThread HandlerThread { get; }

    /// <summary>Its own synchronous connection for its idle waits and the claims it makes while busy; null to use the multiplexer (and the spare).</summary>
    public DirectConnection? Direct { get; }

    /// <summary>The wait after a failed claim or refresh, reset by a claim that worked.</summary>
    public Backoff Backoff { get; }

    /// <summary>How the task the slot ran is to be finished, with the next claim; null when it holds none.</summary>
    public Finish? Held { get; set; }

    /// <summary>The queue of the held task.</summary>
    public DelayedQueue HeldQueue { get; set; }

    /// <summary>Tasks this slot claimed: the number in its claim stamps.</summary>
    public long Claims { get; set; }

    /// <summary>Claims in a row that found the liveness key gone.</summary>
    public int Unregistered { get; set; }

    /// <summary>Whether its last claim without waiting brought a task: the next goes on its direct connection.</summary>
    public bool Busy { get; set; }

    /// <summary>
    /// The direct connection for its next claim when using it costs no hand-over, else null (the multiplexer): on a busy
    /// streak, or when the slot's code already runs on the connection's thread (after a wait or a claim there). Handing
    /// the first call of a streak to that thread costs a wake-up, which a slot about to wait again (after one task) would
    /// pay for nothing (3 ms at the median on busy cores); on that thread a slot woken there finishes, claims and waits
    /// again without a thread switch (contended p99 8–16 → 4.5 ms, bench/README.md).
    /// </summary>
    public DirectConnection? ClaimConnection => Busy || Direct?.IsCurrentThread == true ? Direct : null;

    /// <summary>
    /// The queues its last claim found paused, when it found no task and some of its queues (not all) are paused: its
    /// wait for tokens leaves them out, or the tokens of a paused queue's tasks would wake it at once, again and again.
    /// </summary>
    public DelayedQueue[]? PausedQueues { get; set; }

    /// <summary>Whether the last claim failed: it may have claimed a task whose reply never came, which the next one hands back.</summary>
    public bool ReplyLost { get; set; }

    /// <summary>
    /// Whether an idle wait writes its claim right behind it (<see cref="Queue.DelayedQueue.WaitThenClaimAsync"/>); false
    /// once the server refused that wait (an account from before it, without BRPOPLPUSH or the waking key): the slot then
    /// waits with BLPOP and claims after the wake.
    /// </summary>
    public bool ClaimsBehindWaits { get; set; } = true;

    /// <summary>
    /// The queue whose waking list may hold a token this slot's wait moved there for a claim that never ran (its replies
    /// lost): put back with the next claim answered (<see cref="DelayedQueue.ReturnWakingToken"/>).
    /// </summary>
    public DelayedQueue? WakingTokenLeftIn { get; set; }

    /// <summary>Its claims that failed in a row, until one is answered.</summary>
    public FailureStreak Failures { get; } = new();
}
