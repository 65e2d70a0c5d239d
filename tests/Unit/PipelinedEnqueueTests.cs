using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using StackExchange.Redis;
using Xunit;

namespace Delayed.Tests;

/// <summary>
/// Enqueuers on the thread pool append through a pipelined connection whose reader thread completes their calls inline:
/// sequential awaits continue there, calls fanned out share a send, a caller's code that holds the reader is taken over
/// from, and a connection that fails or times out fails what was in flight as doubtful and rests.
/// </summary>
[Collection("redis")]
public class PipelinedEnqueueTests
{
    private readonly RedisFixture _redis;

    public PipelinedEnqueueTests(RedisFixture redis) => _redis = redis;

    internal static byte[] Task(int i) => TaskEncoder.EncodePython("p:task", new object[] { i }, null, 0);

    private static async Task<DelayedConnection> Connect(RedisFixture redis, string options = "") =>
        await DelayedConnection.ConnectAsync(redis.Server.Configuration + options);

    private static DelayedQueue NewQueue(DelayedConnection connection) => new(connection, "pipe-" + Guid.NewGuid().ToString("N").Substring(0, 8));

    private Task AssertQueueHolds(DelayedQueue queue, int count) => AssertQueueHolds(_redis.Db, queue, count);

    /// <summary>The tasks numbered 0 to count - 1 in order, and a token each.</summary>
    internal static async Task AssertQueueHolds(IDatabase db, DelayedQueue queue, int count)
    {
        var tasks = (await db.ListRangeAsync(queue.Keys.Tasks)).Select(v => (long)TaskDecoder.Decode((byte[])v!).Arguments[0]!);
        Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), tasks);
        Assert.Equal(count, await db.ListLengthAsync(queue.Keys.Tokens));
    }

    [Fact]
    public async Task SequentialAwaitsOnThePoolContinueOnTheReplysReader_OneThreadForEveryRoundTrip()
    {
        // Through the multiplexer each reply wakes its socket thread and then a pool thread for the continuation; on busy
        // cores each waits for a core (sequential awaits kept a tenth of their quiet rate). Here the code after the await
        // runs on the thread that read the reply, and its next enqueue's reply comes back to that same thread, over the
        // pipelined connection still (not the synchronous one, which would hold the reader through a round trip of its own).
        using var server = new Delayed.Testing.LocalRedisServer(); // its own: no other client's connections listed
        using var connection = await DelayedConnection.ConnectAsync(server.Configuration);
        var queue = NewQueue(connection);
        var threads = await System.Threading.Tasks.Task.Run(async () =>
        {
            // A reply read before its caller awaited it completes the call on the caller's thread, which goes on there: the
            // first few may. Once on the reader, every reply comes after its await (only that thread reads it).
            var sent = 0;
            while (!PipelinedEnqueueConnection.OnReaderThread && sent < 100) await queue.EnqueueAsync(Task(sent++));
            var first = (Environment.CurrentManagedThreadId, Thread.CurrentThread.IsThreadPoolThread, sent);
            for (var i = 0; i < 50; i++) await queue.EnqueueAsync(Task(sent++));
            return (first, last: Environment.CurrentManagedThreadId, sent);
        });
        Assert.True(threads.first.sent < 100, "the code after an enqueue on the pool never continued on the reply's reader");
        Assert.False(threads.first.IsThreadPoolThread);
        Assert.Equal(threads.first.CurrentManagedThreadId, threads.last);
        await AssertQueueHolds(connection.Database, queue, threads.sent);
        var clients = connection.Database.Execute("CLIENT", "LIST").ToString()!;
        Assert.Contains($" name={DelayedConnection.PipelinedEnqueueClientName} ", clients, StringComparison.Ordinal);
        Assert.DoesNotContain($" name={DelayedConnection.EnqueueClientName} ", clients, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallsFannedOutOnThePoolAreInFlightTogether_AndAllAppliedInTheOrderCalled()
    {
        // Task.WhenAll over many enqueues, as .NET code fans work out: each call returns at once (a pool caller that made
        // its round trip before returning cut this from 116,000-200,000 to 25,000-31,000 tasks/s, bench/README.md, sixteenth
        // session). The server holds writes back, so nothing completes meanwhile; then the calls written while others were in
        // flight must still be sent (by the reader, before it waits for more replies).
        using var connection = await Connect(_redis);
        var queue = NewQueue(connection);
        await System.Threading.Tasks.Task.Run(() => queue.EnqueueAsync(Task(0))); // the connection is up
        await _redis.Db.ExecuteAsync("CLIENT", "PAUSE", "1000", "WRITE");
        System.Threading.Tasks.Task[] calls;
        try
        {
            calls = await System.Threading.Tasks.Task.Factory.StartNew(() => Enumerable.Range(1, 3).Select(i => queue.EnqueueAsync(Task(i))).ToArray(),
                CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
            Assert.All(calls, call => Assert.False(call.IsCompleted, "an enqueue started on the pool made its round trip before returning"));
        }
        finally
        {
            await _redis.Db.ExecuteAsync("CLIENT", "UNPAUSE");
        }
        await System.Threading.Tasks.Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(20));
        var many = await System.Threading.Tasks.Task.Run(() => Enumerable.Range(4, 5_000).Select(i => queue.EnqueueAsync(Task(i))).ToArray());
        await System.Threading.Tasks.Task.WhenAll(many).WaitAsync(TimeSpan.FromSeconds(20));
        await AssertQueueHolds(queue, 5_004);
    }

    [Fact]
    public async Task CodeThatHoldsTheReaderWhileOthersWaitIsTakenOverFrom_NoDeadlock()
    {
        // A caller's code after its enqueue runs on the reader and here waits, synchronously, for another caller's enqueue
        // to complete: only another reader thread can read that reply. Without the takeover this never ends.
        using var connection = await Connect(_redis);
        var queue = NewQueue(connection);
        var held = await System.Threading.Tasks.Task.Run(async () =>
        {
            var sent = 0;
            while (!PipelinedEnqueueConnection.OnReaderThread && sent < 100) await queue.EnqueueAsync(Task(sent++));
            var onReader = PipelinedEnqueueConnection.OnReaderThread;
            var other = System.Threading.Tasks.Task.Run(() => queue.EnqueueAsync(Task(sent)));
            var finished = other.Wait(TimeSpan.FromSeconds(10)); // holds the reader thread meanwhile
            // And a synchronous wait on its own next enqueue, from the reader thread: taken over from too.
            var own = queue.EnqueueAsync(Task(sent + 1)).Wait(TimeSpan.FromSeconds(10));
            return (onReader, finished, own, sent: sent + 2);
        });
        Assert.True(held.onReader, "the premise failed: the code after the enqueues never ran on the reply's reader");
        Assert.True(held.finished, "another caller's enqueue did not complete while a caller's code held the reader");
        Assert.True(held.own, "an enqueue waited for synchronously on the reader's thread did not complete");
        await AssertQueueHolds(queue, held.sent);
        // And the connection reads on: more sequential awaits go through.
        await System.Threading.Tasks.Task.Run(async () =>
        {
            for (var i = held.sent; i < held.sent + 20; i++) await queue.EnqueueAsync(Task(i));
        }).WaitAsync(TimeSpan.FromSeconds(20));
        await AssertQueueHolds(queue, held.sent + 20);
    }

    [Fact]
    public async Task ALateReplyFailsTheEnqueuesInFlightAsDoubtful_ThenTheConnectionRestsAndCallsGoOn()
    {
        using var connection = await Connect(_redis, ",asyncTimeout=1000");
        var queue = NewQueue(connection);
        using var fallbacks = new FallbackCount(queue.Name);
        await System.Threading.Tasks.Task.Run(() => queue.EnqueueAsync(Task(0)));
        await _redis.Db.ExecuteAsync("CLIENT", "PAUSE", "4000", "WRITE");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var calls = await System.Threading.Tasks.Task.Run(() => new[] { queue.EnqueueAsync(Task(1)), queue.EnqueueAsync(Task(2)) });
            foreach (var call in calls)
            {
                var error = await Assert.ThrowsAsync<RedisConnectionException>(() => call);
                Assert.Contains("may or may not", error.Message, StringComparison.Ordinal);
                Assert.Contains("did not answer within 1000 ms", error.Message, StringComparison.Ordinal);
                Assert.False(Failures.NeverSent(error), "a transaction sent whose reply was late was called never sent");
                Assert.Equal(FailureKind.Unavailable, Failures.Classify(error));
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3.5), $"the enqueues waited {clock.Elapsed} for replies held back 4 s, past their 1 s timeout");
        }
        finally
        {
            await _redis.Db.ExecuteAsync("CLIENT", "UNPAUSE");
        }
        Assert.Equal(1, fallbacks.Enqueue);
        // Resting: the next goes through the multiplexer, and lands.
        await System.Threading.Tasks.Task.Run(() => queue.EnqueueAsync(Task(3)));
        var tasks = await _redis.Db.ListLengthAsync(queue.Keys.Tasks);
        Assert.InRange(tasks, 2, 4); // doubtful: the two late ones were applied or not, each whole
        Assert.Equal(tasks, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    [Fact]
    public async Task AConnectionTheServerClosedWhileIdleIsOpenedAgainByTheNextCall_NothingFails()
    {
        // An idle client's timeout or CLIENT KILL between two enqueues: nothing was in flight, so nothing fails or rests.
        // The reader is held meanwhile by a caller's code, so it cannot have seen the close itself: only the check before
        // sending finds it (without it, the next call goes into the closed socket and fails as doubtful).
        using var server = new Delayed.Testing.LocalRedisServer(); // its own: the one connection of that name listed is this one's
        using var connection = await DelayedConnection.ConnectAsync(server.Configuration);
        var db = connection.Database;
        string? Client() => db.Execute("CLIENT", "LIST").ToString()!.Split('\n')
            .FirstOrDefault(line => line.Contains($" name={DelayedConnection.PipelinedEnqueueClientName} ", StringComparison.Ordinal));
        var queue = NewQueue(connection);
        using var fallbacks = new FallbackCount(queue.Name);
        using var release = new ManualResetEventSlim();
        using var holding = new ManualResetEventSlim();
        var holder = System.Threading.Tasks.Task.Run(async () =>
        {
            var sent = 0;
            while (!PipelinedEnqueueConnection.OnReaderThread && sent < 100) await queue.EnqueueAsync(Task(sent++));
            holding.Set();
            release.Wait(TimeSpan.FromSeconds(30)); // holds the reader thread
            return sent;
        });
        Assert.True(holding.Wait(TimeSpan.FromSeconds(10)), "the premise: the code after an enqueue never ran on the reply's reader");
        var id = Client()!.Split(' ').First(f => f.StartsWith("id=", StringComparison.Ordinal)).Substring(3);
        Assert.Equal(1L, (long)db.Execute("CLIENT", "KILL", "ID", id));
        await Eventually.True(() => Client() is null, "the server still lists the killed connection");
        System.Threading.Tasks.Task next = null!;
        await System.Threading.Tasks.Task.Run(() => { next = queue.EnqueueAsync(Task(100)); });
        release.Set();
        var sentBefore = await holder;
        await next.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, fallbacks.Enqueue);
        var stored = (await db.ListRangeAsync(queue.Keys.Tasks)).Select(v => (long)TaskDecoder.Decode((byte[])v!).Arguments[0]!);
        Assert.Equal(Enumerable.Range(0, sentBefore).Select(i => (long)i).Append(100), stored);
        Assert.NotNull(Client()); // opened again, not left to the multiplexer
    }

    [Fact]
    public async Task ConnectionsKilledWhileCallersSendLoseNoTaskSilently_EachCallAppliedOrToldItMayNotBe()
    {
        // Eight callers on the pool, the connection killed under them again and again: every call that returned is in the
        // queue, every task in the queue was either returned or told "may or may not" (never "not sent" while it was),
        // each whole (task and token together).
        using var server = new Delayed.Testing.LocalRedisServer();
        using var rest = new ReopenIntervalOverride(TimeSpan.FromMilliseconds(50)); // back on the pipelined connection soon
        using var connection = await DelayedConnection.ConnectAsync(server.Configuration);
        var db = connection.Database;
        var queue = NewQueue(connection);
        using var fallbacks = new FallbackCount(queue.Name);
        const int Callers = 8, MaxEach = 500_000;
        var applied = new System.Collections.Concurrent.ConcurrentBag<long>();
        var doubtful = new System.Collections.Concurrent.ConcurrentBag<long>();
        var neverSent = new System.Collections.Concurrent.ConcurrentBag<long>();
        using var done = new CancellationTokenSource();
        // The killer ends the run after five kills; the callers go on until then.
        var killer = System.Threading.Tasks.Task.Run(async () =>
        {
            var kills = 0;
            while (kills < 5)
            {
                var line = (await db.ExecuteAsync("CLIENT", "LIST")).ToString()!.Split('\n')
                    .FirstOrDefault(l => l.Contains($" name={DelayedConnection.PipelinedEnqueueClientName} ", StringComparison.Ordinal));
                if (line is not null)
                {
                    await db.ExecuteAsync("CLIENT", "KILL", "ID", line.Split(' ').First(f => f.StartsWith("id=", StringComparison.Ordinal)).Substring(3));
                    kills++;
                }
                await System.Threading.Tasks.Task.Delay(15);
            }
            done.Cancel();
            return kills;
        });
        await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(0, Callers).Select(caller => System.Threading.Tasks.Task.Run(async () =>
        {
            for (var i = 0; i < MaxEach && !done.IsCancellationRequested; i++)
            {
                long n = caller * 1_000_000 + i;
                try
                {
                    await queue.EnqueueAsync(TaskEncoder.EncodePython("p:task", new object[] { n }, null, 0));
                    applied.Add(n);
                }
                catch (RedisException e)
                {
                    (Failures.NeverSent(e) ? neverSent : doubtful).Add(n);
                }
            }
        })));
        var kills = await killer;
        Assert.True(fallbacks.Enqueue >= 1, $"the premise: of {kills} kills none came with enqueues in flight");
        var stored = (await db.ListRangeAsync(queue.Keys.Tasks)).Select(v => (long)TaskDecoder.Decode((byte[])v!).Arguments[0]!).ToList();
        Assert.Equal(stored.Count, stored.Distinct().Count());
        Assert.Empty(applied.Except(stored));
        Assert.Empty(stored.Except(applied).Except(doubtful));
        Assert.Empty(neverSent.Intersect(stored));
        Assert.Equal(stored.Count, await db.ListLengthAsync(queue.Keys.Tokens));
        Assert.False(doubtful.IsEmpty, "the premise: no enqueue was in flight when its connection was killed");
    }

    [Fact]
    public async Task WhenThePrimaryMovesBetweenTheServersConfigured_EnqueuesFollowIt()
    {
        // Two servers named in the configuration, the primary switched by hand: the multiplexer follows it, and so must
        // this connection, or every pool enqueue would go on being refused (READONLY) by the old primary.
        using var first = new Delayed.Testing.LocalRedisServer();
        using var second = new Delayed.Testing.LocalRedisServer("--replicaof", "127.0.0.1", first.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var connection = await DelayedConnection.ConnectAsync($"{first.Configuration},{second.Configuration}");
        using var firstDb = await ConnectionMultiplexer.ConnectAsync(first.Configuration);
        using var secondDb = await ConnectionMultiplexer.ConnectAsync(second.Configuration);
        var queue = NewQueue(connection);
        await System.Threading.Tasks.Task.Run(() => queue.EnqueueAsync(Task(0)));
        Assert.Equal(1, await firstDb.GetDatabase().ListLengthAsync(queue.Keys.Tasks));
        // On the replica too before it takes over (a failover loses what it had not received).
        Assert.Equal(1L, (long)await firstDb.GetDatabase().ExecuteAsync("WAIT", 1, 10_000));

        await secondDb.GetDatabase().ExecuteAsync("REPLICAOF", "NO", "ONE");
        await firstDb.GetDatabase().ExecuteAsync("REPLICAOF", "127.0.0.1", second.Port);
        var mux = connection.Database.Multiplexer;
        await Eventually.True(async () =>
        {
            await mux.ConfigureAsync();
            return mux.GetServer(first.Configuration).IsReplica && !mux.GetServer(second.Configuration).IsReplica;
        }, "the multiplexer did not see the primary move");
        await Eventually.True(async () =>
        {
            try
            {
                await System.Threading.Tasks.Task.Run(() => queue.EnqueueAsync(Task(1)));
                return true;
            }
            catch (RedisServerException e) when (e.Message.StartsWith("READONLY", StringComparison.Ordinal))
            {
                return false;
            }
        }, "pool enqueues went on to the old primary", seconds: 10);
        var tasks = (await secondDb.GetDatabase().ListRangeAsync(queue.Keys.Tasks)).Select(v => (long)TaskDecoder.Decode((byte[])v!).Arguments[0]!).ToList();
        Assert.Equal(new long[] { 0, 1 }, tasks);
        Assert.Contains($" name={DelayedConnection.PipelinedEnqueueClientName} ", (await secondDb.GetDatabase().ExecuteAsync("CLIENT", "LIST")).ToString(), StringComparison.Ordinal);
        // The session on the old primary is closed once its calls were read, not left open with its reader thread.
        await Eventually.True(async () => !(await firstDb.GetDatabase().ExecuteAsync("CLIENT", "LIST")).ToString()!
            .Contains($" name={DelayedConnection.PipelinedEnqueueClientName} ", StringComparison.Ordinal), "the connection to the old primary was left open");
    }

    [Fact]
    public async Task ARefusalFailsItsOwnCallOnly_TheConnectionStaysUp()
    {
        // NOPERM on one queue's keys (the refusal before EXEC, reported as the server gave it), not on another's: the call
        // behind it on the same connection is applied, and nothing is set aside.
        var user = "pipe" + Guid.NewGuid().ToString("N").Substring(0, 8);
        await _redis.Db.ExecuteAsync("ACL", "SETUSER", user, "on", ">secret-pass", "~allowed*", "+@all");
        try
        {
            using var connection = await Connect(_redis, $",user={user},password=secret-pass");
            var refused = new DelayedQueue(connection, "refused");
            var allowed = new DelayedQueue(connection, "allowed");
            using var fallbacks = new FallbackCount(refused.Name);
            var calls = await System.Threading.Tasks.Task.Run(() => new[] { refused.EnqueueAsync(Task(0)), allowed.EnqueueAsync(Task(0)) });
            var error = await Assert.ThrowsAsync<RedisServerException>(() => calls[0]);
            Assert.Equal(0, fallbacks.Enqueue);
            Assert.StartsWith("NOPERM", error.Message, StringComparison.Ordinal);
            await calls[1];
            Assert.Equal(0, fallbacks.Enqueue);
            Assert.False(await _redis.Db.KeyExistsAsync(refused.Keys.Tasks));
            await AssertQueueHolds(allowed, 1);
        }
        finally
        {
            await _redis.Db.ExecuteAsync("ACL", "DELUSER", user);
        }
    }

    [Fact]
    public async Task DisposingTheConnectionFailsWhatIsInFlight_AndLaterCallsAreRefused()
    {
        var connection = await Connect(_redis);
        var queue = NewQueue(connection);
        await System.Threading.Tasks.Task.Run(() => queue.EnqueueAsync(Task(0)));
        await _redis.Db.ExecuteAsync("CLIENT", "PAUSE", "1000", "WRITE");
        try
        {
            System.Threading.Tasks.Task inFlight = null!;
            await System.Threading.Tasks.Task.Run(() => { inFlight = queue.EnqueueAsync(Task(1)); });
            connection.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(() => inFlight.WaitAsync(TimeSpan.FromSeconds(10)));
        }
        finally
        {
            await _redis.Db.ExecuteAsync("CLIENT", "UNPAUSE");
        }
        await Assert.ThrowsAnyAsync<Exception>(() => System.Threading.Tasks.Task.Run(() => queue.EnqueueAsync(Task(2))));
    }
}
