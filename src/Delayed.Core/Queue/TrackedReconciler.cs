using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;

namespace Delayed.Core.Queue;

/// <summary>
/// Looks now and then, for the queued tracked tasks that one caller waits on, whether a worker keeping no records (Python,
/// Go) took any (<see cref="DelayedQueue.ReconcileTrackedAsync"/>). Each look scans the task list once per distinct task
/// checked, which on a long queue is Redis's time that every worker waits through: so one look checks only as many
/// tasks as its budget of list entries allows, the next look starts after the last one checked (every task gets its
/// turn), and the pause after a look grows with how long it took, so that the looks of one caller take about
/// 1/<see cref="CostFactor"/> of Redis's time at most, however long the queue and however many tasks wait.
/// </summary>
public sealed class TrackedReconciler
{
    /// <summary>List entries one look may compare: two scans of 100,000 tasks took 9 ms on this project's test machine.</summary>
    public const long DefaultBudget = 250_000;

    /// <summary>The pause after a look is at least this many times as long as the look took.</summary>
    public const int CostFactor = 50;

    /// <summary>
    /// A sweep's share (<see cref="DelayedQueue.SweepAsync"/>, within the same budget): up to <see cref="SweepPages"/> HSCANs
    /// of about <see cref="SweepPage"/> fields of the tracked hash (a few ms), so that the records of 20,000 tracked tasks
    /// are looked through in a sweep or two, and a million in a hundred.
    /// </summary>
    public const int SweepPage = 1000, SweepPages = 10;

    private readonly DelayedQueue _queue;
    private readonly long _budget;
    private readonly TimeSpan _minimumPause;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    // The first look too waits a pause: a task just enqueued has not been taken yet.
    private TimeSpan _dueAt;
    private string? _lastChecked;

    /// <param name="queue">The queue the tasks wait in.</param>
    /// <param name="minimumPause">The shortest pause between two looks, however quick.</param>
    /// <param name="budget">List entries one look may compare (the first task is checked whatever it costs).</param>
    public TrackedReconciler(DelayedQueue queue, TimeSpan minimumPause, long budget = DefaultBudget)
    {
        _queue = queue;
        _minimumPause = minimumPause;
        _budget = budget;
        _dueAt = minimumPause;
    }

    /// <summary>Whether the pause after the last look (or after this reconciler was made) has passed.</summary>
    public bool Due => _clock.Elapsed >= _dueAt;

    /// <summary>The pause after the last look.</summary>
    public TimeSpan Pause { get; private set; }

    /// <summary>One look at the next of these ids in turn; returns those found taken (their records now say so).</summary>
    public async Task<IReadOnlyList<string>> LookAsync(IEnumerable<string> queuedIds)
    {
        var ids = queuedIds.Distinct(StringComparer.Ordinal).OrderBy(id => id, StringComparer.Ordinal).ToList();
        if (ids.Count == 0) return Array.Empty<string>();
        // In id order from the one after the last checked, round to the start: ids that come and go keep their turns.
        var next = _lastChecked is null ? 0 : ids.FindIndex(id => string.CompareOrdinal(id, _lastChecked) > 0);
        if (next > 0) ids = ids.Skip(next).Concat(ids.Take(next)).ToList();
        var started = _clock.Elapsed;
        try
        {
            var (checkedCount, taken) = await _queue.ReconcileTrackedAsync(ids, _budget).ConfigureAwait(false);
            _lastChecked = ids[Math.Max(checkedCount, 1) - 1];
            return taken;
        }
        finally
        {
            var took = _clock.Elapsed - started;
            Pause = TimeSpan.FromTicks(Math.Max(_minimumPause.Ticks, took.Ticks * CostFactor));
            _dueAt = _clock.Elapsed + Pause;
        }
    }
}
