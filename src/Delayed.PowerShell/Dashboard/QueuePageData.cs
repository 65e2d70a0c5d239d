using System;
using System.Collections.Generic;
using Delayed.Core.Queue;
using Delayed.Core.Scheduling;
using Delayed.Core.Telemetry;

namespace Delayed.PowerShell.Dashboard;

/// <summary>What a queue's page shows, read for one request.</summary>
internal sealed class QueuePageData
{
    public QueuePageData(string server, QueueSample sample, IReadOnlyList<WorkerState> workers, IReadOnlyList<ScheduledEntry> scheduled,
        IReadOnlyList<ScheduleStatus> schedules, IReadOnlyList<DashboardHistory.Point> history, TimeSpan lookInterval, string? secret)
    {
        Server = server;
        Sample = sample;
        Workers = workers;
        Scheduled = scheduled;
        Schedules = schedules;
        History = history;
        LookInterval = lookInterval;
        Secret = secret;
    }

    public string Server { get; }
    public QueueSample Sample { get; }
    public IReadOnlyList<WorkerState> Workers { get; }
    public IReadOnlyList<ScheduledEntry> Scheduled { get; }
    public IReadOnlyList<ScheduleStatus> Schedules { get; }
    public IReadOnlyList<DashboardHistory.Point> History { get; }
    public TimeSpan LookInterval { get; }

    /// <summary>The run's secret when actions are allowed; null for a read-only dashboard.</summary>
    public string? Secret { get; }
}
