using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Queue;

namespace Delayed.PowerShell.Jobs;

/// <summary>
/// Follows the records of the tracked tasks of one queue that jobs of this session wait on: one read of all their
/// states per poll (every 50 ms after a change, slowing to one a second while nothing changes), and one more read,
/// with output, for those that ended; every 2 s at most (less often on a long queue: <see cref="TrackedReconciler"/>),
/// whether a queued one was taken by a worker that keeps no records.
/// Runs only while some job follows a task.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Lives as long as its queue; its semaphore never hands out a wait handle, so it holds nothing to release.")]
internal sealed class TrackedTaskMonitor
{
    private static readonly ConditionalWeakTable<DelayedQueue, TrackedTaskMonitor> ByQueue = new();
    private static readonly TimeSpan Fastest = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Slowest = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ReconcileEvery = TimeSpan.FromSeconds(2);
    private readonly DelayedQueue _queue;
    private readonly TrackedReconciler _reconciler;
    // By job, not by id: several jobs may follow one task (Get-DelayedTask -Id -AsJob twice, or duplicates of a unique task).
    private readonly ConcurrentDictionary<DelayedTaskJob, bool> _jobs = new();
    private readonly Dictionary<DelayedTaskJob, TrackedState> _seen = new();
    private readonly SemaphoreSlim _poll = new(1, 1);
    private int _running;

    private TrackedTaskMonitor(DelayedQueue queue)
    {
        _queue = queue;
        _reconciler = new TrackedReconciler(queue, ReconcileEvery);
    }

    public static TrackedTaskMonitor For(DelayedQueue queue) => ByQueue.GetValue(queue, q => new TrackedTaskMonitor(q));

    public void Follow(DelayedTaskJob job)
    {
        _jobs[job] = true;
        if (Interlocked.Exchange(ref _running, 1) == 0) _ = Task.Run(RunAsync);
    }

    /// <summary>Stops following a job (Remove-Job): its task runs on, unwatched from here.</summary>
    public void Forget(DelayedTaskJob job) => _jobs.TryRemove(job, out _);

    /// <summary>Reads one job's record now (after Stop-Job), instead of at the next poll.</summary>
    public Task Refresh(DelayedTaskJob job) => PollAsync(new[] { job });

    private async Task RunAsync()
    {
        var wait = Fastest;
        while (true)
        {
            var jobs = _jobs.Keys.ToList();
            if (jobs.Count == 0)
            {
                Volatile.Write(ref _running, 0);
                // A job added between the check and the reset starts no loop of its own: look once more.
                if (_jobs.IsEmpty || Interlocked.Exchange(ref _running, 1) == 1) return;
                continue;
            }
            bool changed;
            try
            {
                // A queued task that a Python or Go worker took shows only as missing from the list: looked for now and then.
                if (_reconciler.Due)
                {
                    var queued = jobs.Where(j => j.LastSeen == TrackedState.Queued).Select(j => j.TrackingId).ToList();
                    if (queued.Count > 0) await _reconciler.LookAsync(queued).ConfigureAwait(false);
                }
                changed = await PollAsync(jobs).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                foreach (var job in jobs) job.Unreachable(e);
                changed = false;
            }
            wait = changed ? Fastest : TimeSpan.FromTicks(Math.Min(Slowest.Ticks, (long)(wait.Ticks * 1.5)));
            await Task.Delay(wait).ConfigureAwait(false);
        }
    }

    /// <summary>One read of the jobs' states, and of the ended ones' output; whether anything changed.</summary>
    private async Task<bool> PollAsync(IReadOnlyList<DelayedTaskJob> jobs)
    {
        await _poll.WaitAsync().ConfigureAwait(false);
        try
        {
            var records = await _queue.GetTrackedAsync(jobs.Select(j => j.TrackingId).ToList()).ConfigureAwait(false);
            var ended = new List<DelayedTaskJob>();
            var changed = false;
            for (var i = 0; i < jobs.Count; i++)
            {
                var record = records[i];
                if (_seen.TryGetValue(jobs[i], out var before) && before == record.State && !record.HasEnded) continue;
                changed = true;
                _seen[jobs[i]] = record.State;
                if (record.HasEnded) ended.Add(jobs[i]);
                else jobs[i].Observe(record);
            }
            if (ended.Count == 0) return changed;
            var full = await _queue.GetTrackedAsync(ended.Select(j => j.TrackingId).ToList(), withData: true).ConfigureAwait(false);
            for (var i = 0; i < ended.Count; i++)
            {
                _jobs.TryRemove(ended[i], out _);
                _seen.Remove(ended[i]);
                ended[i].End(full[i]);
            }
            return true;
        }
        finally
        {
            _poll.Release();
        }
    }
}
