using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using Delayed.Core.Worker;
using Delayed.Testing;
using StackExchange.Redis;
using Xunit;

namespace Delayed.Tests;

/// <summary>Workers whose connections are cut, or whose Redis restarts, go on without losing a task.</summary>
[Collection("redis")]
public class ConnectionFailureTests
{
    private const string ClientName = "delayed-test-victim";
    private readonly RedisFixture _redis;

    public ConnectionFailureTests(RedisFixture redis) => _redis = redis;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConnectionsCutAgainAndAgainLoseNoTask_AndLeaveNothingHeld(bool directClaims)
    {
        const int count = 50_000; // a busy drain: at almost any instant some slot waits for a reply
        // The worker has connections of its own, named so that only they are cut.
        using var connection = await DelayedConnection.ConnectAsync($"{_redis.Server.Configuration},name={ClientName}");
        var probe = _redis.NewQueue();
        var queue = new DelayedQueue(connection, probe.Name);
        await probe.EnqueueAsync(Enumerable.Range(0, count).Select(i => TaskEncoder.EncodePython("m:count", new object[] { i }, null, 0)).ToList());

        var runs = new ConcurrentDictionary<long, int>();
        var log = new EventLog();
        var options = new WorkerOptions
        {
            Concurrency = 4,
            StopWhenEmpty = true,
            DequeueTimeout = TimeSpan.FromMilliseconds(100),
            InitialBackoff = TimeSpan.FromMilliseconds(50),
            MaxBackoff = TimeSpan.FromMilliseconds(200),
            OnEvent = log.Add,
            DirectClaims = directClaims,
        };
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:count", c =>
        {
            runs.AddOrUpdate((long)c.Task.Arguments[0]!, 1, (_, n) => n + 1);
        }), options);
        var run = worker.RunAsync();

        // Cut only once the worker runs: a worker that cannot register at start fails at once, by design.
        while (runs.IsEmpty && !run.IsCompleted) await Task.Delay(10);
        // A slot opens its direct connection at its first busy claim. Cut before that, the multiplexer's cut made that open
        // fail and rest the connection past the last round (on a busy machine): nothing direct was cut.
        // Asked asynchronously: a synchronous CLIENT LIST here waited for a thread pool that the drain keeps busy, long
        // enough on a fast machine for the whole drain to end before the first cut.
        if (directClaims)
            await Eventually.True(async () => run.IsCompleted || (await _redis.ClientLinesAsync()).Any(line => worker.WorkerIds.Any(id => line.Contains(" name=" + id + " ", StringComparison.Ordinal))),
                "no slot opened its direct connection");
        long cutWhileDraining = 0, directCutWhileDraining = 0;
        for (var round = 0; round < 8 && !run.IsCompleted; round++)
        {
            // The multiplexer's connections, and each slot's direct one (named as its worker id).
            var (cut, direct) = await CutConnectionsAsync(worker.WorkerIds);
            if (runs.Count < count) (cutWhileDraining, directCutWhileDraining) = (cutWhileDraining + cut, directCutWhileDraining + direct);
            await Task.Delay(100);
        }
        WorkerSummary summary;
        try
        {
            summary = await run.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            // Once in many CI runs the drain did not end: say where it stood, for the next time.
            var last = log.Events.Reverse().Take(10).Select(e => $"{e.Kind} {e.Error?.GetType().Name} {e.Error?.Message}");
            // Which slot holds what, under which claim stamp, whether its liveness key lives, and whether a stop request
            // still ends the run (a slot stuck in a call, or a loop that no longer claims): seen once in a clean-clone run
            // with every task run, one task left in processing, no direct connection open and no event for 60 s.
            var processing = await _redis.Db.HashGetAllAsync(probe.Keys.Processing);
            var held = string.Join(", ", processing.Select(e =>
                $"{e.Name} holds task {TaskDecoder.Decode((byte[])e.Value!).Arguments[0]} under stamp {_redis.Db.HashGet(probe.Keys.InFlight, e.Name)}, alive {_redis.Db.KeyExists((string)e.Name!)}"));
            var slots = string.Join(", ", worker.WorkerIds.Select(id => $"{id} alive {_redis.Db.KeyExists(id)}"));
            var (queued, tokens) = (await _redis.Db.ListLengthAsync(probe.Keys.Tasks), await _redis.Db.ListLengthAsync(probe.Keys.Tokens));
            var connections = string.Join(" | ", (await _redis.ClientLinesAsync()).Where(l => l.Contains(" name=" + ClientName + " ", StringComparison.Ordinal) || worker.WorkerIds.Any(id => l.Contains(" name=" + id + " ", StringComparison.Ordinal))));
            worker.RequestStop();
            var stoppedOnRequest = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(10))) == run;
            Assert.Fail($"the drain did not end within 60 s after the cuts (state before the stop request): ran {runs.Count} of {count}; queue {queued}, "
                + $"tokens {tokens}, processing {processing.Length} ({held}); "
                + $"slots: {slots}; a stop request {(stoppedOnRequest ? "ended it" : "did not end it within 10 s")}; "
                + $"the worker's connections: {connections}; "
                + $"its last events, newest first: {string.Join(" / ", last)}");
            throw;
        }

        Assert.True(cutWhileDraining > 0, "no connection was cut during the drain: the test did not test anything");
        if (directClaims) Assert.True(directCutWhileDraining > 0, "no slot's direct connection was cut during the drain");
        // Replies were lost, and the worker went on (a direct claim's loss is absorbed: the call goes through the multiplexer).
        if (!directClaims) Assert.NotEmpty(log.Of(WorkerEventKind.WorkerError));
        Assert.Equal(count, runs.Count); // every task ran at least once (a cut reply may run one twice)
        Assert.True(summary.Succeeded >= count);
        Assert.Equal(0, await _redis.Db.ListLengthAsync(probe.Keys.Tasks));
        Assert.Equal(0, await _redis.Db.HashLengthAsync(probe.Keys.Processing));
        Assert.Equal(0, await _redis.Db.HashLengthAsync(probe.Keys.InFlight));
        // A token taken by a BLPOP whose reply was cut is gone; the sweep repairs the count.
        await probe.SweepAsync();
        Assert.Equal(0, await _redis.Db.ListLengthAsync(probe.Keys.Tokens));
    }

    [Fact]
    public async Task AWorkerRidesOutARedisRestart_AndRunsTasksEnqueuedAfterIt()
    {
        using var server = new LocalRedisServer(); // its own server: this one goes down
        // Calls wait for a reply at most a second, half the outage: the slots' claims fail (StackExchange.Redis holds a call
        // made while disconnected until its timeout, so with the default five seconds the slots ride the outage out
        // without a failed claim, which left the check of what a slot says after failures below without its premise).
        using var connection = await DelayedConnection.ConnectAsync(server.Configuration + ",asyncTimeout=1000,syncTimeout=1000");
        var queue = new DelayedQueue(connection, "restarted");
        var ran = new ConcurrentQueue<long>();
        var log = new EventLog();
        var options = new WorkerOptions
        {
            Concurrency = 2,
            DequeueTimeout = TimeSpan.FromMilliseconds(100),
            KeepAliveInterval = TimeSpan.FromMilliseconds(500),
            InitialBackoff = TimeSpan.FromMilliseconds(50),
            MaxBackoff = TimeSpan.FromMilliseconds(500),
            OnEvent = log.Add,
        };
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("m:mark", c => ran.Enqueue((long)c.Task.Arguments[0]!)), options);
        var run = worker.RunAsync(stop.Token);

        await queue.EnqueueAsync(TaskEncoder.EncodePython("m:mark", new object[] { 1 }, null, 0));
        await Eventually.True(() => ran.Contains(1), "the task enqueued before the restart did not run");
        server.Restart(TimeSpan.FromSeconds(2)); // down for two seconds; the new server starts empty

        await Eventually.True(async () =>
        {
            try
            {
                await queue.EnqueueAsync(TaskEncoder.EncodePython("m:mark", new object[] { 2 }, null, 0));
                return true;
            }
            catch (RedisException)
            {
                return false; // the client has not reconnected yet
            }
        }, "the client did not reconnect");
        await Eventually.True(() => ran.Contains(2), "the running worker did not take a task enqueued after the restart");
        // The keep-alive loop wrote the liveness keys again on the empty server.
        await Eventually.True(async () => (await Task.WhenAll(worker.WorkerIds.Select(id => connection.Database.KeyExistsAsync(id)))).All(e => e),
            "the liveness keys were not written again");

        // Each slot whose claims failed (those errors carry the back-off) says, after its last failure, that they were
        // answered again: once its back-off ends, which may be after the task enqueued after the restart already ran.
        static List<string> FailedSlots(List<WorkerEvent> events) =>
            events.Where(e => e.Kind == WorkerEventKind.WorkerError && e.Duration > TimeSpan.Zero).Select(e => e.WorkerId).Distinct().ToList();
        static bool SaidRecovered(List<WorkerEvent> events, string slot) =>
            events.FindLastIndex(e => e.Kind == WorkerEventKind.WorkerRecovered && e.WorkerId == slot)
                > events.FindLastIndex(e => e.Kind == WorkerEventKind.WorkerError && e.WorkerId == slot && e.Duration > TimeSpan.Zero);
        var events = log.Events.ToList();
        Assert.True(FailedSlots(events).Count > 0, "the premise: no slot's claim failed during the outage; the worker's events: "
            + string.Join(" | ", events.Select(e => $"{e.Kind} {e.WorkerId} {e.Duration.TotalMilliseconds:F0} ms {e.Error?.GetType().Name} {e.Error?.Message}")));
        await Eventually.True(() =>
        {
            var now = log.Events.ToList();
            return FailedSlots(now).All(slot => SaidRecovered(now, slot));
        }, "a slot did not say, after its last failed claim, that Redis answered again");
        stop.Cancel();
        await run.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.NotEmpty(log.Of(WorkerEventKind.WorkerError)); // it saw the server go, and went on
        events = log.Events.ToList();
        foreach (var slot in FailedSlots(events))
        {
            Assert.True(SaidRecovered(events, slot), $"slot {slot} did not say, after its last failed claim, that Redis answered again");
            Assert.True(events[events.FindLastIndex(e => e.Kind == WorkerEventKind.WorkerRecovered && e.WorkerId == slot)].Duration > TimeSpan.Zero);
        }

        Assert.Equal(new long[] { 1, 2 }, ran.ToArray());
        Assert.Equal(0, await connection.Database.HashLengthAsync(queue.Keys.Processing));
    }

    [Theory]
    [InlineData("LOADING Redis is loading the dataset in memory", true)]
    [InlineData("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.", true)]
    [InlineData("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", true)]
    [InlineData("TRYAGAIN Multiple keys request during rehashing of slot", true)]
    [InlineData("CLUSTERDOWN The cluster is down", true)]
    [InlineData("BUSYKEY Target key name already exists.", false)]
    [InlineData("NOPERM User worker has no permissions to run the 'lpos' command", false)]
    [InlineData("ERR Error running script: LOADING in a message", false)]
    [InlineData("EXECABORT Transaction discarded because of: BUSY Redis is busy running a script.", true)]
    [InlineData("EXECABORT Transaction discarded because of previous errors.", false)]
    public void ARefusalTheServerLiftsByItselfIsWaitedOutAsAnOutage_OthersAreNot(string reply, bool temporary)
    {
        Assert.Equal(temporary, Failures.IsTemporaryRefusal(new RedisServerException(reply)));
        Assert.False(Failures.IsTemporaryRefusal(new InvalidOperationException(reply)));
    }

    /// <summary>Kills the worker's connections; returns how many, and how many of them were direct ones.</summary>
    private async Task<(long All, long Direct)> CutConnectionsAsync(System.Collections.Generic.IReadOnlyList<string> workerIds)
    {
        long cut = 0, direct = 0;
        foreach (var line in await _redis.ClientLinesAsync())
        {
            var fields = line.Split(' ');
            var isDirect = workerIds.Any(id => fields.Contains("name=" + id));
            if (!fields.Contains("name=" + ClientName) && !isDirect) continue;
            var killed = (long)await _redis.Db.ExecuteAsync("CLIENT", "KILL", "ID", RedisFixture.IdOf(line));
            cut += killed;
            if (isDirect) direct += killed;
        }
        return (cut, direct);
    }
}
