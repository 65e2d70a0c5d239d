using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;

namespace Delayed.Core.Telemetry;

/// <summary>
/// What the engine measures, through System.Diagnostics.Metrics: one Meter named "Delayed", which any listener in the
/// process can read (dotnet-counters, OpenTelemetry, a Prometheus exporter). Tags: the queue, and the task's name, where
/// names past the first <see cref="MaxNames"/> a process sees fold into "other", so that a flood of distinct names
/// cannot grow one time series each. Without a listener an instrument costs one check per call.
/// </summary>
public static class DelayedMetrics
{
    /// <summary>The name of the Meter, e.g. for dotnet-counters monitor --counters Delayed.</summary>
    public const string MeterName = "Delayed";

    /// <summary>How many distinct task names are tagged as they are; the rest are "other".</summary>
    public const int MaxNames = 100;

    /// <summary>The name tag of a task past <see cref="MaxNames"/>, or whose bytes did not decode.</summary>
    public const string OtherName = "other";

    // Before the instruments: a listener that exists already asks for the tags as each instrument is created.
    private static readonly string[] QueueTag = { "queue" };
    private static readonly string[] QueueNameTags = { "queue", "name" };
    private static readonly string[] ProcessedTags = { "queue", "name", "outcome", "reason" };
    private static readonly string[] DurationTags = { "queue", "name", "outcome" };
    private static readonly string[] FallbackTags = { "queue", "use" };

    private static readonly Meter Meter = new(MeterName, typeof(DelayedMetrics).Assembly.GetName().Version?.ToString());
    private static readonly NameFolder Names = new(MaxNames);

    private static readonly Counter<long> Enqueued = Meter.CreateCounter<long>(
        "delayed.tasks.enqueued", "{task}", "Tasks this process added to a queue (at once, scheduled, or unique and not skipped).");

    private static readonly Counter<long> Started = Meter.CreateCounter<long>(
        "delayed.tasks.started", "{task}", "Tasks whose handler a worker of this process started.");

    private static readonly Counter<long> Processed = Meter.CreateCounter<long>(
        "delayed.tasks.processed", "{task}",
        "Tasks a worker of this process finished, by outcome: succeeded, failed (with its reason), retried, returned (no handler here), interrupted (a stop put it back), stopped (Stop-Job).");

    private static readonly Counter<long> Recovered = Meter.CreateCounter<long>(
        "delayed.tasks.recovered", "{task}", "Tasks of dead workers that sweeps of this process put back on their queue.");

    private static readonly Counter<long> Fallbacks = Meter.CreateCounter<long>(
        "delayed.direct_connection.fallbacks", "{failure}",
        "Times a worker slot's own connection (use: claims) or the enqueue connection (use: enqueue) failed or was refused, so that its calls went through the shared connection while it rested (10 s). No task is lost or run twice by it; a steady rise means that connection cannot stay up (a proxy or firewall closing it, a failover).");

    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "delayed.task.duration", "s", "How long handlers ran, by outcome.");

    private static readonly Histogram<double> Wait = Meter.CreateHistogram<double>(
        "delayed.task.wait", "s",
        "How long tasks waited in their queue before a worker of this process started them: from enqueue, retry, recovery or promotion to the claim, by the server's clock. Tracked tasks only (Add-DelayedTask -AsJob): the wire format carries no enqueue time.");

    /// <summary>The tags an instrument of this meter is measured with, always all of them: what an exporter makes its labels of.</summary>
    internal static IReadOnlyList<string> TagsOf(string instrument) => instrument switch
    {
        "delayed.tasks.started" or "delayed.task.wait" => QueueNameTags,
        "delayed.tasks.processed" => ProcessedTags,
        "delayed.task.duration" => DurationTags,
        "delayed.direct_connection.fallbacks" => FallbackTags,
        _ => QueueTag,
    };

    internal static void TasksEnqueued(string queue, long count)
    {
        if (Enqueued.Enabled && count > 0) Enqueued.Add(count, new KeyValuePair<string, object?>("queue", queue));
    }

    /// <param name="queue">The task's queue.</param>
    /// <param name="name">The task's name.</param>
    /// <param name="waitedMs">How long it waited before its claim, where known (<c>ClaimReply.WaitedMilliseconds</c>).</param>
    internal static void TaskStarted(string queue, string? name, long? waitedMs = null)
    {
        if (!Started.Enabled && !(Wait.Enabled && waitedMs is not null)) return;
        var queueTag = new KeyValuePair<string, object?>("queue", queue);
        var nameTag = new KeyValuePair<string, object?>("name", Fold(name));
        Started.Add(1, queueTag, nameTag);
        // A clock read of a line entry written by an older script, or a server clock set back, is no wait: 0, not negative.
        if (waitedMs is { } waited) Wait.Record(Math.Max(0, waited) / 1000.0, queueTag, nameTag);
    }

    /// <param name="queue">The task's queue.</param>
    /// <param name="name">The task's name; null when its bytes did not decode.</param>
    /// <param name="outcome">succeeded, failed, retried, returned, interrupted or stopped.</param>
    /// <param name="reason">For a failure, its <c>FailureReason</c>.</param>
    /// <param name="duration">How long the handler ran; null when none ran.</param>
    internal static void TaskProcessed(string queue, string? name, string outcome, string? reason = null, TimeSpan? duration = null)
    {
        if (!Processed.Enabled && !Duration.Enabled) return;
        var tags = new[]
        {
            new KeyValuePair<string, object?>("queue", queue),
            new KeyValuePair<string, object?>("name", Fold(name)),
            new KeyValuePair<string, object?>("outcome", outcome),
            new KeyValuePair<string, object?>("reason", reason ?? ""),
        };
        Processed.Add(1, tags);
        if (duration is { } ran) Duration.Record(ran.TotalSeconds, tags[0], tags[1], tags[2]);
    }

    internal static void TasksRecovered(string queue, long count)
    {
        if (Recovered.Enabled && count > 0) Recovered.Add(count, new KeyValuePair<string, object?>("queue", queue));
    }

    /// <param name="queue">The queue the connection was serving: the slot's, or the one an enqueue was for.</param>
    /// <param name="use">claims or enqueue.</param>
    internal static void DirectConnectionFellBack(string queue, string use)
    {
        if (Fallbacks.Enabled) Fallbacks.Add(1, new KeyValuePair<string, object?>("queue", queue), new KeyValuePair<string, object?>("use", use));
    }

    /// <summary>The name as tagged (<see cref="NameFolder"/>).</summary>
    internal static string Fold(string? name) => Names.Fold(name);
}
