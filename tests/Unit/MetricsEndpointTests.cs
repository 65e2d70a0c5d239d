using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Telemetry;
using Delayed.Core.Worker;
using Xunit;

namespace Delayed.Tests;

/// <summary>The Prometheus endpoint: text a scraper parses, counters that move as a worker runs, gauges read from Redis.</summary>
[Collection("redis")]
public class MetricsEndpointTests
{
    private readonly RedisFixture _redis;

    public MetricsEndpointTests(RedisFixture redis) => _redis = redis;

    [Fact]
    public async Task TheEndpointServesPrometheusTextWhoseCountersMoveAsAWorkerRunsTasksAndWhoseGaugesAreTheQueues()
    {
        var queue = _redis.NewQueue();
        var port = FreePort();
        using var endpoint = MetricsEndpoint.Start(new[] { queue }, "127.0.0.1", port);
        Assert.Equal($"http://127.0.0.1:{port}/metrics", endpoint.Url.ToString());
        using var http = new HttpClient();

        await queue.EnqueueAsync(new[]
        {
            TaskEncoder.EncodePython("e:ok", null, null, 0),
            TaskEncoder.EncodePython("e:ok", null, null, 0),
            TaskEncoder.EncodePython("e:bad", null, null, 0),
        });
        await queue.ScheduleAsync(new (byte[], TimeSpan?, DateTimeOffset?)[] { (TaskEncoder.EncodePython("e:later", null, null, 0), TimeSpan.FromHours(1), null) });
        var before = Parse(await http.GetStringAsync(endpoint.Url));
        Assert.Equal(3, before[$"delayed_queue_length{{queue=\"{queue.Name}\"}}"]);
        Assert.Equal(1, before[$"delayed_queue_scheduled{{queue=\"{queue.Name}\"}}"]);
        Assert.Equal(1, before[$"delayed_queue_up{{queue=\"{queue.Name}\"}}"]);
        Assert.Equal(0, before[$"delayed_queue_paused{{queue=\"{queue.Name}\"}}"]);

        var registry = new DelegateRegistry()
            .Add("e:ok", _ => { })
            .Add("e:bad", _ => throw new InvalidOperationException("no"));
        await new DelayedWorker(queue, registry, new WorkerOptions { StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100) }).RunAsync();

        // The gauges are read at most once a second: wait for a read after the worker's end.
        Dictionary<string, double> after = new();
        await Eventually.True(async () =>
        {
            after = Parse(await http.GetStringAsync(endpoint.Url));
            return after.GetValueOrDefault($"delayed_queue_length{{queue=\"{queue.Name}\"}}", -1) == 0;
        }, "the length gauge never came down to 0 after the worker drained the queue");
        Assert.Equal(2, after[$"delayed_tasks_processed_total{{queue=\"{queue.Name}\",name=\"e:ok\",outcome=\"succeeded\",reason=\"\"}}"]);
        Assert.Equal(1, after[$"delayed_tasks_processed_total{{queue=\"{queue.Name}\",name=\"e:bad\",outcome=\"failed\",reason=\"Failed\"}}"]);
        Assert.Equal(3, after[$"delayed_tasks_started_total{{queue=\"{queue.Name}\",name=\"e:ok\"}}"] + after[$"delayed_tasks_started_total{{queue=\"{queue.Name}\",name=\"e:bad\"}}"]);
        Assert.Equal(4, after[$"delayed_tasks_enqueued_total{{queue=\"{queue.Name}\"}}"]);  // three at once, one scheduled
        Assert.Equal(2, after[$"delayed_task_duration_seconds_count{{queue=\"{queue.Name}\",name=\"e:ok\",outcome=\"succeeded\"}}"]);
        Assert.Equal(1, after[$"delayed_queue_failed{{queue=\"{queue.Name}\"}}"]);
        Assert.Equal(0, after[$"delayed_queue_oldest_waiting_seconds{{queue=\"{queue.Name}\"}}"]);
    }

    [Fact]
    public async Task TheWaitHistogramTimesATrackedTaskFromEnqueueToStart_AndLeavesUntrackedTasksOut()
    {
        var queue = _redis.NewQueue();
        using var endpoint = MetricsEndpoint.Start(new[] { queue }, "127.0.0.1", FreePort());
        using var http = new HttpClient();
        await queue.EnqueueAsync(TaskEncoder.EncodePython("t:plain", null, null, 0));
        await queue.EnqueueTrackedAsync(new[] { new TrackedEnqueue(TaskEncoder.EncodePython("t:tracked", null, null, 0), TimeSpan.FromMinutes(5)) });
        var waiting = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromMilliseconds(700)); // the wait to be measured, not a synchronisation
        var waited = waiting.Elapsed.TotalSeconds;
        var registry = new DelegateRegistry().Add("t:plain", _ => { }).Add("t:tracked", _ => { });
        await new DelayedWorker(queue, registry, new WorkerOptions { StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100) }).RunAsync();

        var samples = Parse(await http.GetStringAsync(endpoint.Url));
        var tracked = $"queue=\"{queue.Name}\",name=\"t:tracked\"";
        Assert.Equal(1, samples[$"delayed_task_wait_seconds_count{{{tracked}}}"]);
        // By the server's clock in ms, from the enqueue script to the claim script: at least what this test waited.
        Assert.InRange(samples[$"delayed_task_wait_seconds_sum{{{tracked}}}"], waited - 0.002, waited + 30);
        Assert.Equal(0, samples[$"delayed_task_wait_seconds_bucket{{{tracked},le=\"0.5\"}}"]);
        Assert.Equal(1, samples[$"delayed_task_wait_seconds_bucket{{{tracked},le=\"60\"}}"]);
        Assert.DoesNotContain(samples.Keys, k => k.StartsWith("delayed_task_wait_seconds", StringComparison.Ordinal) && k.Contains("t:plain", StringComparison.Ordinal));
        Assert.Equal(1, samples[$"delayed_tasks_started_total{{queue=\"{queue.Name}\",name=\"t:plain\"}}"]);
    }

    [Fact]
    public async Task TheOldestWaitingGaugeGrowsWhileATaskWaitsAndThePausedGaugeFollowsThePause()
    {
        var queue = _redis.NewQueue();
        using var endpoint = MetricsEndpoint.Start(new[] { queue }, "127.0.0.1", FreePort());
        using var http = new HttpClient();
        await queue.EnqueueAsync(TaskEncoder.EncodePython("w:wait", null, null, 0));
        await queue.PauseAsync("maintenance");
        var first = Parse(await http.GetStringAsync(endpoint.Url));
        var oldest = $"delayed_queue_oldest_waiting_seconds{{queue=\"{queue.Name}\"}}";
        Assert.Equal(1, first[$"delayed_queue_paused{{queue=\"{queue.Name}\"}}"]);
        await Eventually.True(async () => Parse(await http.GetStringAsync(endpoint.Url))[oldest] >= 1,
            "the oldest waiting task's age never reached one second");
    }

    [Fact]
    public async Task ExportWritesTheGaugesOnceAsParseableTextWithoutTheWaitingAge()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(TaskEncoder.EncodePython("x:one", null, null, 0));
        using var stream = new MemoryStream();
        await MetricsEndpoint.WriteGaugesAsync(new[] { queue }, stream);
        var samples = Parse(Encoding.UTF8.GetString(stream.ToArray()));
        Assert.Equal(1, samples[$"delayed_queue_length{{queue=\"{queue.Name}\"}}"]);
        Assert.DoesNotContain(samples.Keys, k => k.StartsWith("delayed_queue_oldest_waiting_seconds", StringComparison.Ordinal));
        Assert.DoesNotContain(samples.Keys, k => k.StartsWith("delayed_tasks_", StringComparison.Ordinal));
    }

    [Fact]
    public void APortInUseIsAClearError()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var error = Assert.Throws<InvalidOperationException>(() => MetricsEndpoint.Start(new[] { _redis.NewQueue() }, "127.0.0.1", port));
            Assert.Contains($"Cannot serve metrics at http://127.0.0.1:{port}/metrics", error.Message);
            Assert.Contains("Choose another port", error.Message);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public void TheWaitingAgeOfTheHeadCountsFromWhenItWasFirstSeenAtTheTail()
    {
        var age = new WaitingAge();
        var t0 = new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);
        byte[] A = { 1 }, B = { 2 }, C = { 3 };
        Assert.Equal(TimeSpan.Zero, age.Observe(1, A, A, t0));                      // A, first seen now
        Assert.Equal(TimeSpan.FromSeconds(1), age.Observe(2, A, B, t0.AddSeconds(1))); // B joins behind A
        Assert.Equal(TimeSpan.FromSeconds(2), age.Observe(3, A, C, t0.AddSeconds(2)));
        // A was taken: B is at the head, seen at the tail at t0+1.
        Assert.Equal(TimeSpan.FromSeconds(4), age.Observe(2, B, C, t0.AddSeconds(5)));
        // B and C taken, the queue empty, then a new A: it starts from zero again.
        Assert.Equal(TimeSpan.Zero, age.Observe(0, null, null, t0.AddSeconds(6)));
        Assert.Equal(TimeSpan.Zero, age.Observe(1, A, A, t0.AddSeconds(7)));
    }

    [Fact]
    public void AHeadNeverSeenAtTheTailCountsFromItsFirstLook_ALowerBound()
    {
        var age = new WaitingAge();
        var t0 = new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);
        byte[] Old = { 9 }, Newer = { 8 }, Next = { 7 };
        Assert.Equal(TimeSpan.Zero, age.Observe(5, Old, Newer, t0));
        Assert.Equal(TimeSpan.FromSeconds(30), age.Observe(5, Old, Newer, t0.AddSeconds(30)));
        // Old taken; the next one was never at the tail while looked at: from this look on.
        Assert.Equal(TimeSpan.Zero, age.Observe(4, Next, Newer, t0.AddSeconds(31)));
        Assert.Equal(TimeSpan.FromSeconds(2), age.Observe(4, Next, Newer, t0.AddSeconds(33)));
    }

    internal static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static readonly Regex Comment = new(@"^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$");
    private static readonly Regex Sample = new(@"^([a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*=""([^""\\]|\\.)*"",?)*\})?) (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$");

    /// <summary>The samples of the Prometheus text format (version 0.0.4) by series; any line that is not in the format fails the test.</summary>
    internal static Dictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0) continue;
            if (line.StartsWith("#", StringComparison.Ordinal))
            {
                Assert.Matches(Comment, line);
                continue;
            }
            var match = Sample.Match(line);
            Assert.True(match.Success, $"not a Prometheus sample line: {line}");
            samples.Add(match.Groups[1].Value, double.Parse(match.Groups[5].Value, NumberStyles.Float, CultureInfo.InvariantCulture));
        }
        return samples;
    }
}

/// <summary>The start rate a watcher reads from the claim numbers of the in-flight hash.</summary>
[Collection("redis")]
public class ClaimRateTests
{
    private readonly RedisFixture _redis;

    public ClaimRateTests(RedisFixture redis) => _redis = redis;

    [Fact]
    public async Task AWorkersClaimNumberCountsTheTasksItClaimed_NotItsIdleWaits()
    {
        var queue = _redis.NewQueue();
        var release = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new DelegateRegistry().Add("c:hold", _ => release.Task);
        using var stop = new System.Threading.CancellationTokenSource();
        var waitsBefore = await _redis.CommandCallsAsync("blpop", "brpoplpush");
        var run = new DelayedWorker(queue, registry, new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100) }).RunAsync(stop.Token);
        try
        {
            // The premise: the worker went round its idle loop several times, each a claim attempt that found nothing and
            // a blocking wait on the tokens that timed out (its keep-alive and promotion run scripts too: the wait is its own,
            // BRPOPLPUSH with the claim behind it, or BLPOP).
            await Eventually.True(async () => await _redis.CommandCallsAsync("blpop", "brpoplpush") - waitsBefore >= 4, "the idle worker never waited on the tokens four times");
            await queue.EnqueueAsync(TaskEncoder.EncodePython("c:hold", null, null, 0));
            await Eventually.True(async () => (await queue.GetInFlightAsync()).Count == 1, "the task was never claimed");
            Assert.Equal(1, (await queue.GetInFlightAsync())[0].Claims);
        }
        finally
        {
            release.SetResult(true);
            stop.Cancel();
            await run;
        }
    }

    [Fact]
    public void TheRateIsTheGrowthOfTheClaimNumbersOverTheLastMinute_ANewWorkerCountingInFull()
    {
        var rate = new ClaimRate();
        var t0 = new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);
        var old = new WorkerDescription("h", 1, t0.AddHours(-1), 10);
        var young = new WorkerDescription("h", 2, t0.AddSeconds(5), 10);
        Delayed.Core.Queue.InFlightTask Held(string worker, long claims, WorkerDescription description) =>
            new(worker, new byte[] { 1 }, true, null, t0, new Delayed.Core.Queue.WorkerState(worker, description, true, null, false), claims);

        Assert.Equal(0, rate.Observe(new[] { Held("a", 500, old) }, t0)); // an old worker's past claims are not this minute's
        // Ten seconds on: a took 20 more, b (started after the first look) took 10 in all.
        Assert.Equal(3.0, rate.Observe(new[] { Held("a", 520, old), Held("b", 10, young) }, t0.AddSeconds(10)), 3);
        // a idle (holds nothing) for a while, then seen again: the tasks it took meanwhile count when it shows.
        Assert.Equal(1.5, rate.Observe(new[] { Held("b", 10, young) }, t0.AddSeconds(20)), 3); // still 30, over 20 s
        Assert.Equal(40 / 30.0, rate.Observe(new[] { Held("a", 530, old) }, t0.AddSeconds(30)), 3);
        // Past the minute, the first counts drop out of the window.
        Assert.Equal(10 / 60.0, rate.Observe(new[] { Held("a", 530, old) }, t0.AddSeconds(90)), 3);
    }
}
