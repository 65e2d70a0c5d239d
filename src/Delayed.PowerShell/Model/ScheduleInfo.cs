using System;
using System.Collections.Specialized;
using Delayed.PowerShell.Conversion;

namespace Delayed;

/// <summary>
/// A recurring schedule, as Get-DelayedSchedule and Register-DelayedSchedule show it. Its definition's properties have
/// the names of Register-DelayedSchedule's parameters, so a listing kept in a file registers again as it is.
/// </summary>
public sealed class ScheduleInfo
{
    private readonly TaskView? _task;

    internal ScheduleInfo(Queue queue, Core.Scheduling.ScheduleStatus status)
    {
        Queue = queue;
        Name = status.Name;
        Problem = status.Problem;
        if (status.Schedule is { } schedule)
        {
            Cron = schedule.Cron;
            TimeZone = schedule.TimeZone;
            MisfirePolicy = schedule.Misfire == Core.Scheduling.MisfirePolicy.Skip ? MisfirePolicy.Skip : MisfirePolicy.RunOnce;
            Suspended = schedule.Suspended;
            UniqueFor = schedule.UniqueFor > System.TimeSpan.Zero ? schedule.UniqueFor : null;
            UniqueKey = schedule.UniqueKey;
            _task = TaskView.Of(schedule.Task);
        }
        NextRun = status.NextTick?.ToLocalTime();
        LastRun = status.LastTick?.ToLocalTime();
        LastOutcome = status.LastOutcome;
        RunCount = status.Fired;
    }

    public Queue Queue { get; }

    public string Name { get; }

    /// <summary>The cron expression: 5 fields, 6 with seconds first, or a macro such as @daily.</summary>
    public string? Cron { get; }

    /// <summary>The time zone the expression is read in.</summary>
    public string? TimeZone { get; }

    /// <summary>The name of the task each run enqueues.</summary>
    public string? TaskName => _task?.Name;

    public object?[]? ArgumentList => _task?.ArgumentList;

    public OrderedDictionary? Parameter => _task?.Parameter;

    public long Retry => _task?.Retry ?? 0;

    public TaskFormat? Format => _task?.Format;

    /// <summary>The arguments on one line, as the tables show them.</summary>
    public string Arguments => _task?.FormatArguments() ?? "";

    public MisfirePolicy MisfirePolicy { get; }

    /// <summary>A run enqueues nothing while a task of the same key was enqueued less than this ago (LastOutcome Duplicate).</summary>
    public TimeSpan? UniqueFor { get; }

    /// <summary>The uniqueness key with UniqueFor; none for the task's bytes.</summary>
    public string? UniqueKey { get; }

    /// <summary>Whether its runs are held (Suspend-DelayedSchedule).</summary>
    public bool Suspended { get; }

    /// <summary>The next run (local time, with its offset); none while suspended or when the expression has no more.</summary>
    public DateTimeOffset? NextRun { get; }

    /// <summary>The tick its last run was for (local time, with its offset).</summary>
    public DateTimeOffset? LastRun { get; }

    /// <summary>
    /// What the last tick did: Enqueued; CaughtUp (missed while no worker or sweeper ran, run once late); Skipped
    /// (missed, let go under -MisfirePolicy Skip); Duplicate (nothing enqueued: a task of its key was, within -UniqueFor). How the task then ran is in the worker's log and the failed store.
    /// </summary>
    public string? LastOutcome { get; }

    /// <summary>How many tasks its runs have enqueued.</summary>
    public long RunCount { get; }

    /// <summary>Why the definition does not read on this machine (e.g. a time zone unknown here), if it does not.</summary>
    public string? Problem { get; }
}
