using System;

namespace Delayed.Core.Scheduling;

/// <summary>A recurring schedule as stored, with its next tick and what its last tick did.</summary>
public sealed class ScheduleStatus
{
    public ScheduleStatus(string name, RecurringSchedule? schedule, string? problem, DateTimeOffset? nextTick, DateTimeOffset? lastFiredAt, DateTimeOffset? lastTick, string? lastOutcome, long fired)
    {
        Name = name;
        Schedule = schedule;
        Problem = problem;
        NextTick = nextTick;
        LastFiredAt = lastFiredAt;
        LastTick = lastTick;
        LastOutcome = lastOutcome;
        Fired = fired;
    }

    public string Name { get; }

    /// <summary>The definition; null when it does not read here (see <see cref="Problem"/>).</summary>
    public RecurringSchedule? Schedule { get; }

    public string? Problem { get; }

    /// <summary>The next tick; null when suspended or when the expression has no tick to come.</summary>
    public DateTimeOffset? NextTick { get; }

    public DateTimeOffset? LastFiredAt { get; }

    public DateTimeOffset? LastTick { get; }

    /// <summary>What the last tick did: Enqueued, CaughtUp (late, run once), Skipped (late, let go) or Duplicate (unique, within its window); null before the first.</summary>
    public string? LastOutcome { get; }

    /// <summary>How many tasks its ticks have enqueued.</summary>
    public long Fired { get; }
}
