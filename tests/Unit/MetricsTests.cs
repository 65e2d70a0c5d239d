using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Telemetry;
using Delayed.Core.Worker;
using Xunit;

namespace Delayed.Tests;

/// <summary>The engine's measurements reach a listener of the "Delayed" meter with their queue, name and outcome.</summary>
[Collection("redis")]
public class MetricsTests
{
    private readonly RedisFixture _redis;

    public MetricsTests(RedisFixture redis) => _redis = redis;

    private sealed record Measurement(string Instrument, double Value, Dictionary<string, object?> Tags);

    [Fact]
    public async Task EnqueueRunsFailuresRetriesAndRecoveriesAreCountedWithTheirQueueNameAndOutcome()
    {
        var queue = _redis.NewQueue();
        var seen = new ConcurrentQueue<Measurement>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == DelayedMetrics.MeterName) l.EnableMeasurementEvents(instrument); },
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            // Other tests run queues of their own at the same time: only this queue's measurements count.
            var map = tags.ToArray().ToDictionary(t => t.Key, t => t.Value);
            if (Equals(map.GetValueOrDefault("queue"), queue.Name)) seen.Enqueue(new Measurement(instrument.Name, value, map));
        }
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        await queue.EnqueueAsync(new[]
        {
            TaskEncoder.EncodePython("m:ok", null, null, 0),
            TaskEncoder.EncodePython("m:ok", null, null, 0),
            TaskEncoder.EncodePython("m:flaky", null, null, 1),
        });
        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:nobody", null, null, 0));
        var runs = 0;
        var registry = new DelegateRegistry()
            .Add("m:ok", _ => { })
            .Add("m:flaky", _ => { if (++runs == 1) throw new InvalidOperationException("once"); });
        await new DelayedWorker(queue, registry, new WorkerOptions
        {
            StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100), RetryDelay = TimeSpan.Zero, MaxReturns = 0,
        }).RunAsync();
        const string dead = "0123456789abcdef0123456789abcde0";
        await _redis.Db.HashSetAsync(queue.Keys.Processing, dead, TaskEncoder.EncodePython("m:ok", null, null, 0));
        await queue.SweepAsync();

        Assert.Equal(4, seen.Where(m => m.Instrument == "delayed.tasks.enqueued").Sum(m => m.Value));
        Assert.Equal(1, seen.Where(m => m.Instrument == "delayed.tasks.recovered").Sum(m => m.Value));
        var processed = seen.Where(m => m.Instrument == "delayed.tasks.processed")
            .Select(m => $"{m.Tags["name"]} {m.Tags["outcome"]} {m.Tags["reason"]}".TrimEnd()).OrderBy(x => x, StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { "m:flaky retried", "m:flaky succeeded", "m:nobody failed NoHandler", "m:ok succeeded", "m:ok succeeded" }, processed);
        Assert.Equal(4, seen.Count(m => m.Instrument == "delayed.tasks.started"));
        var durations = seen.Where(m => m.Instrument == "delayed.task.duration").ToList();
        Assert.Equal(4, durations.Count);
        Assert.All(durations, d => Assert.InRange(d.Value, 0, 30));
    }

    [Fact]
    public void TaskNamesBeyondTheBoundFoldIntoOther_AndANameSeenKeepsItsOwn()
    {
        var folder = new NameFolder(3);
        Assert.Equal(new[] { "a", "b", "c", "other", "a", "other" }, new[] { "a", "b", "c", "d", "a", "e" }.Select(folder.Fold));
        Assert.Equal(DelayedMetrics.OtherName, folder.Fold(null));
    }
}
