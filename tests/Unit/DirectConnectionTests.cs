using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Redis;
using Delayed.Core.Worker;
using Xunit;

namespace Delayed.Tests;

/// <summary>A busy slot's own synchronous connection for its claims, and what happens when it breaks.</summary>
[Collection("redis")]
public class DirectConnectionTests
{
    private readonly RedisFixture _redis;

    public DirectConnectionTests(RedisFixture redis) => _redis = redis;

    private string? ClientNamed(string name) => _redis.ClientNamed(name);

    private static string IdOf(string clientLine) => RedisFixture.IdOf(clientLine);

    [Fact]
    public async Task ABusySlotClaimsThroughAConnectionOfItsOwn_NamedAsItsWorkerId()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(Enumerable.Range(0, 50).Select(i => TaskEncoder.EncodePython("d:noop", new object[] { i }, null, 0)).ToArray());
        await queue.EnqueueAsync(TaskEncoder.EncodePython("d:probe", null, null, 0));
        string? seen = null;
        var registry = new DelegateRegistry().Add("d:noop", _ => { }).Add("d:probe", context => seen = ClientNamed(context.WorkerId));
        var summary = await new DelayedWorker(queue, registry, new WorkerOptions { StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100) }).RunAsync();
        Assert.Equal(51, summary.Succeeded);
        Assert.NotNull(seen);
        Assert.Contains(" cmd=evalsha ", seen, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnIdleSlotWaitsOnItsOwnConnection_WhoseThreadClaimsAndStartsTheTaskItWokeFor()
    {
        var queue = _redis.NewQueue();
        var ran = new ConcurrentQueue<(string? Client, string? Thread)>();
        var registry = new DelegateRegistry().Add("d:probe", context => ran.Enqueue((ClientNamed(context.WorkerId), Thread.CurrentThread.Name)));
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(queue, registry, new WorkerOptions { DequeueTimeout = TimeSpan.FromSeconds(5) });
        var run = worker.RunAsync(stop.Token);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                // The premise: the slot is blocked, on the connection named as its worker id.
                await Eventually.True(() => worker.WorkerIds is [var id] && ClientNamed(id) is { } line && line.Contains(" cmd=brpoplpush ", StringComparison.Ordinal),
                    "the idle slot to block in its wait on its own connection", 10, () => string.Join(" | ", worker.WorkerIds));
                await queue.EnqueueAsync(TaskEncoder.EncodePython("d:probe", new object[] { i }, null, 0));
                await Eventually.True(() => ran.Count == i + 1, "the task to run");
            }
        }
        finally
        {
            stop.Cancel();
            await run;
        }
        // Each task was claimed on that connection (its last command the claim script) and started on its thread.
        Assert.All(ran, r => Assert.Contains(" cmd=evalsha ", r.Client, StringComparison.Ordinal));
        // Not the slot's handler thread ("Delayed worker slot 1"), which starts handlers whose claim came on another thread.
        Assert.All(ran, r => Assert.Equal("Delayed worker slot 1 claims", r.Thread));
    }

    [Fact]
    public async Task ASlotWokenOnItsOwnConnectionFinishesAndClaimsThereToo_NotThroughTheSharedConnection()
    {
        var queue = _redis.NewQueue();
        var ran = 0;
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("d:noop", _ => Interlocked.Increment(ref ran)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromSeconds(5) });
        var run = worker.RunAsync(stop.Token);
        // Every command the server runs, with the address of the client that sent it.
        using var monitor = new System.Net.Sockets.TcpClient("127.0.0.1", _redis.Server.Port);
        var stream = monitor.GetStream();
        stream.Write(System.Text.Encoding.ASCII.GetBytes("MONITOR\r\n"));
        var reader = new System.IO.StreamReader(stream, System.Text.Encoding.UTF8);
        Assert.Equal("+OK", await reader.ReadLineAsync());
        try
        {
            string? own = null;
            await Eventually.True(() => worker.WorkerIds is [var id] && (own = ClientNamed(id)) is { } line && line.Contains(" cmd=brpoplpush ", StringComparison.Ordinal),
                "the idle slot to block in its wait on its own connection");
            var address = own!.Split(' ').First(field => field.StartsWith("addr=", StringComparison.Ordinal)).Substring(5);
            await queue.EnqueueAsync(TaskEncoder.EncodePython("d:noop", null, null, 0));
            await Eventually.True(() => Volatile.Read(ref ran) == 1, "the task to run");
            // Its claims, as the server saw them: the one written behind the wait the token ended ("waited"), then the one that finished the
            // task and found none ("token"), then the next wait, each from the slot's own connection.
            var claims = new System.Collections.Generic.List<string>();
            var id = worker.WorkerIds[0];
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!deadline.IsCancellationRequested)
            {
                var line = await reader.ReadLineAsync(deadline.Token);
                if (line is null) break;
                var woken = line.Contains($"\"{id}\" \"waited\"", StringComparison.Ordinal);
                var finished = line.Contains($"\"{id}\" \"token\"", StringComparison.Ordinal);
                var waits = claims.Count == 2 && line.Contains($"\"BRPOPLPUSH\" \"{queue.Keys.Tokens}\"", StringComparison.OrdinalIgnoreCase);
                if ((woken && claims.Count == 0) || (finished && claims.Count == 1) || waits) claims.Add(line);
                if (claims.Count == 3) break;
            }
            Assert.True(claims.Count == 3, "the claim, the finish and the next wait; saw: " + string.Join("\n", claims));
            Assert.All(claims, line => Assert.Contains($"[0 {address}]", line, StringComparison.Ordinal));
        }
        finally
        {
            stop.Cancel();
            await run;
        }
    }

    [Fact]
    public async Task AWorkerWhoseSlotsWaitOnTheirOwnConnectionsOpensOneConnectionPerSlot_NoSpare()
    {
        var queue = _redis.NewQueue();
        long Clients() => _redis.Db.Execute("CLIENT", "LIST").ToString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        var before = Clients();
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(queue, new DelegateRegistry(), new WorkerOptions { Concurrency = 3, DequeueTimeout = TimeSpan.FromSeconds(5) });
        var run = worker.RunAsync(stop.Token);
        try
        {
            // The premise: every slot is idle, blocked on its own connection.
            await Eventually.True(() => worker.WorkerIds.Count == 3 && worker.WorkerIds.All(id => ClientNamed(id)?.Contains(" cmd=brpoplpush ", StringComparison.Ordinal) == true),
                "the three slots to block in their waits on their own connections");
            Assert.Equal(before + 3, Clients()); // the worker's other work goes through the connection the queue already has
        }
        finally
        {
            stop.Cancel();
            await run;
        }
    }

    [Fact]
    public async Task KillingAnIdleSlotsOwnConnectionWhileItWaitsLosesNoTask_ItWaitsOnItsSpareMeanwhile()
    {
        using var rest = new ReopenIntervalOverride(TimeSpan.FromMinutes(5)); // so that it really waits on the spare afterwards
        var queue = _redis.NewQueue();
        using var fallbacks = new FallbackCount(queue.Name);
        var ran = 0;
        var errors = new ConcurrentQueue<WorkerEvent>();
        using var stop = new CancellationTokenSource();
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("d:noop", _ => Interlocked.Increment(ref ran)), new WorkerOptions
        {
            DequeueTimeout = TimeSpan.FromSeconds(5),
            OnEvent = e => { if (e.Kind == WorkerEventKind.WorkerError) errors.Enqueue(e); },
        });
        var run = worker.RunAsync(stop.Token);
        try
        {
            string? blocked = null;
            await Eventually.True(() => worker.WorkerIds is [var id] && (blocked = ClientNamed(id)) is { } line && line.Contains(" cmd=brpoplpush ", StringComparison.Ordinal),
                "the idle slot to block in its wait on its own connection");
            Assert.Equal(1, (long)_redis.Db.Execute("CLIENT", "KILL", "ID", IdOf(blocked!)));
            // Resting, it waits on its spare connection: blocked again, under no name of its own.
            await Eventually.True(async () => await _redis.BlockedClientsAsync() == 1 && ClientNamed(worker.WorkerIds[0]) is null, "the slot to wait on its spare connection");
            await queue.EnqueueAsync(Enumerable.Range(0, 3).Select(i => TaskEncoder.EncodePython("d:noop", new object[] { i }, null, 0)).ToArray());
            await Eventually.True(() => Volatile.Read(ref ran) == 3, "the tasks to run");
        }
        finally
        {
            stop.Cancel();
            await run;
        }
        Assert.Empty(errors); // the wait went to the spare at once: no error, no back-off, but counted
        Assert.Equal(1, fallbacks.Claims);
        Assert.Equal(0, await queue.GetLengthAsync());
        Assert.Equal(0, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    [Fact]
    public async Task KillingTheDirectConnectionMidDrainLosesNoTaskAndRunsNoneTwice_AndItIsOpenedAgain()
    {
        using var rest = new ReopenIntervalOverride(TimeSpan.FromMilliseconds(200));
        var queue = _redis.NewQueue();
        using var fallbacks = new FallbackCount(queue.Name);
        const int Count = 2000;
        await queue.EnqueueAsync(Enumerable.Range(0, Count).Select(i => TaskEncoder.EncodePython("d:count", new object[] { i }, null, 0)).ToArray());
        var runs = new ConcurrentDictionary<long, int>();
        var kills = 0;
        string? reopened = null;
        var registry = new DelegateRegistry().Add("d:count", context =>
        {
            var i = Convert.ToInt64(context.Task.Arguments[0], System.Globalization.CultureInfo.InvariantCulture);
            runs.AddOrUpdate(i, 1, (_, n) => n + 1);
            if (i is 400 or 1500)
            {
                // The direct connection of this slot, as the server sees it: killed under the worker.
                var line = ClientNamed(context.WorkerId) ?? throw new InvalidOperationException($"no direct connection at task {i}");
                if (i == 1500) reopened = line;
                kills += (int)(long)_redis.Db.Execute("CLIENT", "KILL", "ID", IdOf(line));
            }
            // Past the rest after the first kill, so that the next claim opens the connection again.
            if (i == 1000) Thread.Sleep(400);
        });
        var errors = new ConcurrentQueue<WorkerEvent>();
        var options = new WorkerOptions
        {
            StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100),
            OnEvent = e => { if (e.Kind == WorkerEventKind.WorkerError) errors.Enqueue(e); },
        };
        var summary = await new DelayedWorker(queue, registry, options).RunAsync();
        Assert.Equal(2, kills);
        // The claim went on through the multiplexer at once: no error and no back-off, but counted, so that a
        // connection that cannot stay up shows in the metrics.
        Assert.Empty(errors);
        Assert.Equal(2, fallbacks.Claims);
        Assert.Equal(0, fallbacks.Enqueue);
        Assert.NotNull(reopened);
        Assert.Equal(Count, summary.Succeeded);
        Assert.Equal(Count, runs.Count);
        Assert.All(runs, run => Assert.Equal(1, run.Value));
        Assert.Equal(0, await queue.GetLengthAsync());
        Assert.Empty(await queue.GetInFlightAsync());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ASlotWhoseHandlersRunOnAPumpThreadClaimsFromThatThread_WhenTheThreadSaysSo(bool inline)
    {
        // A foreground PowerShell worker's shape: handlers run on one thread that pumps posted work, and the slot's code
        // continues there after each. With InlineClaims the slot's next claim is made on that thread, so it also asks for
        // the next handler from there; without, the claim goes to the connection's thread, which then asks.
        var queue = _redis.NewQueue();
        const int Count = 300;
        await queue.EnqueueAsync(Enumerable.Range(0, Count).Select(i => TaskEncoder.EncodePython("d:pumped", new object[] { i }, null, 0)).ToArray());
        using var pump = new PumpThread(inline);
        var summary = await new DelayedWorker(queue, new PumpRegistry(pump), new WorkerOptions { StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100) }).RunAsync();
        Assert.Equal(Count, summary.Succeeded);
        Assert.Equal(Count, pump.Ran); // every handler ran on the pump thread
        // The premise: the slot was on a busy streak (claims on its direct connection) for nearly all of the drain.
        if (inline) Assert.True(pump.AskedFromPump >= Count - 5, $"{pump.AskedFromPump} of {Count} handlers were asked for from the pump thread");
        // Without: the connection's thread asks, except when it answered before the pump thread came to await the claim,
        // which then goes on there (a race that busy cores make more frequent: 9 of 300 once under the full suite).
        else Assert.True(pump.AskedFromPump <= Count / 10, $"{pump.AskedFromPump} of {Count} handlers were asked for from the pump thread without inline claims");
    }

    /// <summary>One thread that runs posted work, as a PowerShell pipeline thread pumps a foreground worker's handlers.</summary>
    private sealed class PumpThread : IDisposable
    {
        private readonly BlockingCollection<Action> _work = new();
        private readonly Thread _thread;

        public PumpThread(bool inline)
        {
            _thread = new Thread(() =>
            {
                using var scope = inline ? InlineClaims.OnThisThread() : null;
                foreach (var action in _work.GetConsumingEnumerable()) action();
            }) { IsBackground = true, Name = "test pump" };
            _thread.Start();
        }

        public int Ran { get; private set; }

        public int AskedFromPump { get; private set; }

        public Task<object?> InvokeAsync()
        {
            if (Thread.CurrentThread == _thread) AskedFromPump++;
            // As the module's pump: the awaiting slot continues on this thread.
            var done = new TaskCompletionSource<object?>();
            _work.Add(() =>
            {
                if (Thread.CurrentThread == _thread) Ran++;
                done.SetResult(null);
            });
            return done.Task;
        }

        public void Dispose()
        {
            _work.CompleteAdding();
            _thread.Join();
            _work.Dispose();
        }
    }

    private sealed class PumpRegistry : ITaskHandlerRegistry, ISelfDispatchingTaskHandler
    {
        private readonly PumpThread _pump;

        public PumpRegistry(PumpThread pump) => _pump = pump;

        public ITaskHandler? Resolve(string name) => name == "d:pumped" ? this : null;

        public Task InvokeAsync(TaskContext context) => _pump.InvokeAsync();
    }
}
