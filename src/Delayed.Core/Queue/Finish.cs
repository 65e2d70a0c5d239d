using System;

namespace Delayed.Core.Queue;

/// <summary>
/// How a worker finishes the task it holds, in the same script that claims its next one
/// (the claim script (<see cref="Protocol.LuaScripts.FinishAndClaim"/>)).
/// </summary>
internal sealed class Finish
{
    private Finish(string stamp, string how)
    {
        Stamp = stamp;
        How = how;
    }

    /// <summary>The claim stamp of the held task: the finish happens only while the worker still holds that claim.</summary>
    public string Stamp { get; }

    /// <summary>'release', 'requeue', 'schedule' or 'fail' (<see cref="Protocol.LuaScripts.FinishAndClaim"/>).</summary>
    public string How { get; }

    /// <summary>The bytes put back (requeue, schedule).</summary>
    public byte[]? Bytes { get; private set; }

    /// <summary>How long a scheduled task waits, in milliseconds.</summary>
    public long DelayMilliseconds { get; private set; }

    /// <summary>'a' (attempts) or 'n' (returns for want of a handler) to record for the bytes put back; '' for none.</summary>
    // Stryker disable once String : '' is "none"; a finish that leaves it unset (release, fail) is one the script never reads it for.
    public string Counter { get; private set; } = "";

    /// <summary>The value of that counter; for a failure, the attempts made.</summary>
    public long CounterValue { get; private set; }

    public FailureReason Reason { get; private set; }

    /// <summary>Whether the task goes back for want of a handler.</summary>
    public bool IsReturn => How == "schedule" && Counter == "n";

    // Stryker disable once String : '' is "none"; the script reads it only for a failure and a stop, which set it.
    public string Error { get; private set; } = "";

    /// <summary>The id of the tracked task finished; null for an untracked one.</summary>
    public string? TrackingId { get; private set; }

    /// <summary>What the tracked task's handler gave back, as its host wrote it.</summary>
    public byte[] Output { get; private set; } = Array.Empty<byte>();

    /// <summary>The attempt that ran (tracked tasks).</summary>
    public long Attempt { get; private set; }

    /// <summary>How long the run took (tracked tasks).</summary>
    public TimeSpan Duration { get; private set; }

    /// <summary>Makes the finish update the tracked task's record as well.</summary>
    public Finish Tracked(string trackingId, byte[]? output, long attempt, TimeSpan duration)
    {
        TrackingId = trackingId;
        Output = output ?? Array.Empty<byte>();
        Attempt = attempt;
        Duration = duration;
        return this;
    }

    /// <summary>Release: the task is done, successfully or not kept.</summary>
    public static Finish Release(string stamp) => new(stamp, "release");

    /// <summary>Put back at the tail now, e.g. after a stop interrupted it (counters kept) or an immediate retry.</summary>
    public static Finish Requeue(string stamp, byte[] bytes, string counter = "", long value = 0) =>
        new(stamp, "requeue") { Bytes = bytes, Counter = counter, CounterValue = value };

    /// <summary>Put back into the schedule, due after <paramref name="delay"/> by the server's clock.</summary>
    public static Finish Schedule(string stamp, byte[] bytes, TimeSpan delay, string counter, long value) =>
        new(stamp, "schedule") { Bytes = bytes, DelayMilliseconds = DelayedQueue.DelayMilliseconds(delay), Counter = counter, CounterValue = value };

    /// <summary>Whether a tracked task was stopped on its caller's request (Stop-Job): released, its record saying stopped.</summary>
    public bool StoppedOnRequest { get; private set; }

    /// <summary>Released after its caller stopped it (Stop-Job): not retried, not kept as a failure.</summary>
    public static Finish Stopped(string stamp, string why) => new(stamp, "release") { StoppedOnRequest = true, Error = why };

    /// <summary>Into the failed store with its reason and error (or released, when the store keeps none).</summary>
    public static Finish Fail(string stamp, FailureReason reason, string error, long attempts) =>
        new(stamp, "fail") { Reason = reason, Error = error, CounterValue = attempts };
}
