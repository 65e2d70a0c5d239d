using System;
using System.Collections.Concurrent;
using System.Linq;
using Delayed.Core.Worker;

namespace Delayed.PowerShell.Reporting;

/// <summary>Which task each slot of a worker runs now and since when, followed from the worker's events.</summary>
internal sealed class RunningTasks
{
    private readonly ConcurrentDictionary<string, (string Name, DateTime Since)> _bySlot = new(StringComparer.Ordinal);

    public int Count => _bySlot.Count;

    public void Observe(WorkerEvent e)
    {
        switch (e.Kind)
        {
            case WorkerEventKind.TaskStarted:
                _bySlot[e.WorkerId] = (e.Task?.Name ?? e.TaskName ?? "?", e.Timestamp);
                break;
            case WorkerEventKind.TaskSucceeded or WorkerEventKind.TaskFailed or WorkerEventKind.TaskRetried
                or WorkerEventKind.TaskInterrupted or WorkerEventKind.TaskReturned or WorkerEventKind.TaskStopped:
                _bySlot.TryRemove(e.WorkerId, out _);
                break;
        }
    }

    /// <summary>The longest-running first, e.g. "Restart-Site for 12 s, Patch for 2 s"; at most <paramref name="most"/> named.</summary>
    public string Describe(int most = 4)
    {
        var now = DateTime.UtcNow;
        var running = _bySlot.Values.OrderBy(t => t.Since).ToList();
        var named = running.Take(most).Select(t => $"{t.Name} for {Math.Max(0, (int)(now - t.Since.ToUniversalTime()).TotalSeconds)} s");
        var rest = running.Count > most ? $" and {running.Count - most} more" : "";
        return string.Join(", ", named) + rest;
    }
}
