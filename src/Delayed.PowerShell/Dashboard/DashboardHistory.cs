using System;
using System.Collections.Generic;
using System.Linq;

namespace Delayed.PowerShell.Dashboard;

/// <summary>
/// What the dashboard saw of each queue while it ran: per look, the tasks started and the tasks failed since the look
/// before, for the last hour (the charts). Kept in memory only; a dashboard started afresh starts with an empty chart.
/// </summary>
internal sealed class DashboardHistory
{
    /// <summary>How far back the charts go.</summary>
    internal static readonly TimeSpan Span = TimeSpan.FromHours(1);

    private readonly Dictionary<string, Queue<Point>> _points = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public void Add(string queue, Point point)
    {
        lock (_gate)
        {
            if (!_points.TryGetValue(queue, out var points)) _points[queue] = points = new Queue<Point>();
            points.Enqueue(point);
            while (points.Count > 0 && point.At - points.Peek().At > Span) points.Dequeue();
        }
    }

    /// <summary>The points of the named queues, those of one look summed, oldest first.</summary>
    public IReadOnlyList<Point> Of(IEnumerable<string> queues)
    {
        lock (_gate)
        {
            return queues.Where(_points.ContainsKey).SelectMany(q => _points[q])
                .GroupBy(p => p.Look)
                .Select(g => new Point(g.Key, g.Min(p => p.At), g.Sum(p => p.Started), g.Sum(p => p.Failed)))
                .OrderBy(p => p.At)
                .ToList();
        }
    }

    /// <summary>One look at a queue, or at several summed.</summary>
    internal readonly struct Point
    {
        public Point(long look, DateTimeOffset at, long started, long failed)
        {
            Look = look;
            At = at;
            Started = started;
            Failed = failed;
        }

        /// <summary>The number of the look, the same for every queue read at it.</summary>
        public long Look { get; }

        public DateTimeOffset At { get; }

        /// <summary>Tasks started since the look before (by workers of this module).</summary>
        public long Started { get; }

        /// <summary>Tasks that went to the failed store since the look before.</summary>
        public long Failed { get; }
    }
}
