using System;
using System.Linq;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using StackExchange.Redis;
using Xunit;

namespace Delayed.Tests;

/// <summary>
/// An enqueuer on a thread of its own appends on that thread through a synchronous connection; callers on the thread pool
/// through the pipelined one (PipelinedEnqueueTests), and whatever those cannot do through the multiplexer: the same
/// commands, the same errors.
/// </summary>
[Collection("redis")]
public class EnqueueConnectionTests
{
    private readonly RedisFixture _redis;

    public EnqueueConnectionTests(RedisFixture redis) => _redis = redis;

    private static byte[] Task(int i) => TaskEncoder.EncodePython("e:task", new object[] { i }, null, 0);

    /// <summary>Runs <paramref name="work"/> on a thread of its own, as a PowerShell pipeline or a script calls; its result or exception.</summary>
    private static T OnThreadOfItsOwn<T>(Func<T> work)
    {
        T result = default!;
        Exception? error = null;
        var thread = new System.Threading.Thread(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        thread.Start();
        thread.Join();
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        return result;
    }

    private string? EnqueueClient() =>
        _redis.Db.Execute("CLIENT", "LIST").ToString()!.Split('\n')
            .FirstOrDefault(line => line.Contains($" name={DelayedConnection.EnqueueClientName} ", StringComparison.Ordinal));

    [Fact]
    public async Task AnEnqueuerOnAThreadOfItsOwnAppendsThereThroughTheEnqueueConnection_TaskAndTokenTogether()
    {
        var queue = _redis.NewQueue();
        var pending = OnThreadOfItsOwn(() => queue.EnqueueAsync(Task(1)));
        Assert.True(pending.IsCompleted, "an enqueuer on a thread of its own was handed a pending task: its call went through the multiplexer");
        await pending;
        var client = EnqueueClient();
        Assert.NotNull(client);
        Assert.Contains(" cmd=exec ", client, StringComparison.Ordinal);
        Assert.Equal(Task(1), (byte[])(await _redis.Db.ListGetByIndexAsync(queue.Keys.Tasks, 0))!);
        Assert.Equal(1, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.True(OnThreadOfItsOwn(() => queue.EnqueueAsync(Enumerable.Range(2, 500).Select(Task).ToArray())).IsCompleted);
        Assert.Equal(501, await _redis.Db.ListLengthAsync(queue.Keys.Tasks));
        Assert.Equal(501, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    [Fact]
    public async Task ManyEnqueuersAtOnceLoseNothingAndKeepEachOnesOrder_OnThreadsOfTheirOwnAndOnThePool()
    {
        // Four on threads of their own (one at a time takes the enqueue connection, the others the multiplexer) and
        // four on the thread pool (the pipelined connection).
        var queue = _redis.NewQueue();
        const int Callers = 8, Each = 500;
        var own = Enumerable.Range(0, Callers / 2).Select(caller => new System.Threading.Thread(() =>
        {
            for (var i = 0; i < Each; i++) queue.EnqueueAsync(Task(caller * 10_000 + i)).GetAwaiter().GetResult();
        })).ToList();
        own.ForEach(thread => thread.Start());
        await System.Threading.Tasks.Task.WhenAll(Enumerable.Range(Callers / 2, Callers / 2).Select(caller => System.Threading.Tasks.Task.Run(async () =>
        {
            for (var i = 0; i < Each; i++) await queue.EnqueueAsync(Task(caller * 10_000 + i));
        })));
        own.ForEach(thread => thread.Join());
        var tasks = (await _redis.Db.ListRangeAsync(queue.Keys.Tasks)).Select(v => (long)TaskDecoder.Decode((byte[])v!).Arguments[0]!).ToList();
        Assert.Equal(Callers * Each, tasks.Count);
        Assert.Equal(Callers * Each, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        for (var caller = 0; caller < Callers; caller++)
        {
            var its = tasks.Where(n => n / 10_000 == caller).ToList();
            Assert.Equal(Enumerable.Range(0, Each).Select(i => (long)(caller * 10_000 + i)), its);
        }
    }

    [Fact]
    public async Task AConnectionTheServerClosedMeanwhileIsOpenedAgainBeforeAnythingIsSent()
    {
        // An idle client's timeout or a restart closes the connection between two enqueues: the next one must neither
        // fail nor be doubtful (the multiplexer reconnects unseen; so must this).
        var queue = _redis.NewQueue();
        await OnThreadOfItsOwn(() => queue.EnqueueAsync(Task(1)));
        var id = EnqueueClient()!.Split(' ').First(f => f.StartsWith("id=", StringComparison.Ordinal)).Substring(3);
        Assert.Equal(1L, (long)_redis.Db.Execute("CLIENT", "KILL", "ID", id));
        await Eventually.True(() => EnqueueClient() is null, "the server still lists the killed connection");
        Assert.True(OnThreadOfItsOwn(() => queue.EnqueueAsync(Task(2))).IsCompleted);
        Assert.Equal(2, await _redis.Db.ListLengthAsync(queue.Keys.Tasks));
        Assert.Equal(2, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.NotNull(EnqueueClient()); // opened again, not left to the multiplexer
    }

    [Fact]
    public async Task ATaskListOfAnotherTypeIsReportedAsRedisReportsIt()
    {
        var queue = _redis.NewQueue();
        await _redis.Db.StringSetAsync(queue.Keys.Tasks, "not a list");
        // Every way: on a thread of its own (the enqueue connection), on the pool (the pipelined one), and through the multiplexer.
        var direct = await Assert.ThrowsAsync<RedisServerException>(() => OnThreadOfItsOwn(() => queue.EnqueueAsync(Task(1))));
        Assert.StartsWith("WRONGTYPE", direct.Message, StringComparison.Ordinal);
        var pipelined = await Assert.ThrowsAsync<RedisServerException>(() => System.Threading.Tasks.Task.Run(() => queue.EnqueueAsync(Task(1))));
        Assert.StartsWith("WRONGTYPE", pipelined.Message, StringComparison.Ordinal);
        _redis.Connection.PipelinesEnqueues = false;
        try
        {
            var shared = await Assert.ThrowsAsync<RedisServerException>(() => System.Threading.Tasks.Task.Run(() => queue.EnqueueAsync(Task(1))));
            Assert.StartsWith("WRONGTYPE", shared.Message, StringComparison.Ordinal);
        }
        finally
        {
            _redis.Connection.PipelinesEnqueues = true;
        }
    }

    [Fact]
    public async Task AnAccountWithoutTheRightToAppendGetsTheServersRefusal_AndNothingIsWritten()
    {
        // The refusal comes before EXEC, which then aborts with nothing run. It is reported as the server gave it: the
        // multiplexer's own transaction would say only "EXECABORT Transaction discarded because of previous errors."
        var user = "enq" + Guid.NewGuid().ToString("N").Substring(0, 8);
        await _redis.Db.ExecuteAsync("ACL", "SETUSER", user, "on", ">secret-pass", "~*", "+@all", "-rpush");
        try
        {
            using var connection = await DelayedConnection.ConnectAsync($"{_redis.Server.Configuration},user={user},password=secret-pass");
            var queue = new DelayedQueue(connection, "acl-" + user);
            using var fallbacks = new FallbackCount(queue.Name);
            var error = await Assert.ThrowsAsync<RedisServerException>(() => OnThreadOfItsOwn(() => queue.EnqueueAsync(Task(1))));
            Assert.Equal(0, fallbacks.Enqueue); // the connection is sound: it is not set aside
            Assert.StartsWith("NOPERM", error.Message, StringComparison.Ordinal);
            Assert.Contains("rpush", error.Message, StringComparison.OrdinalIgnoreCase);
            Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.Tasks));
            Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.Tokens));
        }
        finally
        {
            await _redis.Db.ExecuteAsync("ACL", "DELUSER", user);
        }
    }

    [Fact]
    public async Task AnAccountLimitedToItsQueuesKeysStillAppendsThroughTheEnqueueConnection()
    {
        // The connection's server was found by asking the multiplexer where a key lives, which sends EXISTS on that key:
        // refused (NOPERM) to an account limited to its queues' keys, so the connection never opened and every enqueue
        // went through the multiplexer, counted as a fallback.
        var user = "lim" + Guid.NewGuid().ToString("N").Substring(0, 8);
        await _redis.Db.ExecuteAsync("ACL", "SETUSER", user, "on", ">secret-pass", "~limited*", "+@all");
        try
        {
            using var connection = await DelayedConnection.ConnectAsync($"{_redis.Server.Configuration},user={user},password=secret-pass");
            var queue = new DelayedQueue(connection, "limited-" + user);
            using var fallbacks = new FallbackCount(queue.Name);
            Assert.True(OnThreadOfItsOwn(() => queue.EnqueueAsync(Task(1))).IsCompleted, "the enqueue went through the multiplexer");
            Assert.Equal(0, fallbacks.Enqueue);
            Assert.Equal(1, await _redis.Db.ListLengthAsync(queue.Keys.Tasks));
        }
        finally
        {
            await _redis.Db.ExecuteAsync("ACL", "DELUSER", user);
        }
    }

    [Fact]
    public async Task AReplyLateBeyondTheTimeoutFailsTheEnqueueAsDoubtful_InsteadOfWaitingForIt()
    {
        using var connection = await DelayedConnection.ConnectAsync($"{_redis.Server.Configuration},syncTimeout=1000");
        var queue = new DelayedQueue(connection, "late-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        using var fallbacks = new FallbackCount(queue.Name);
        await OnThreadOfItsOwn(() => queue.EnqueueAsync(Task(1))); // the enqueue connection is open
        await _redis.Db.ExecuteAsync("CLIENT", "PAUSE", "5000", "WRITE");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => OnThreadOfItsOwn(() => queue.EnqueueAsync(Task(2))));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"the enqueue waited {clock.Elapsed} for a reply the server held back 5 s, past its 1 s timeout");
            Assert.Contains("may or may not", error.Message, StringComparison.Ordinal);
            Assert.False(Failures.NeverSent(error), "a transaction sent whose reply was late was called never sent");
        }
        finally
        {
            await _redis.Db.ExecuteAsync("CLIENT", "UNPAUSE");
        }
        // Doubtful means the whole transaction or none of it (here none: the connection was closed with it unread),
        // and the next enqueue goes through (the multiplexer's way while the enqueue connection rests after a failure).
        await OnThreadOfItsOwn(() => queue.EnqueueAsync(Task(3)));
        var tasks = await _redis.Db.ListLengthAsync(queue.Keys.Tasks);
        Assert.InRange(tasks, 2, 3);
        Assert.Equal(tasks, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.Equal(1, fallbacks.Enqueue);
    }

    [Fact]
    public async Task AnEnqueueThroughTheMultiplexerWhoseReplyIsLateIsNotCalledNeverSent()
    {
        using var connection = await DelayedConnection.ConnectAsync($"{_redis.Server.Configuration},asyncTimeout=1000");
        connection.PipelinesEnqueues = false; // as over TLS, on a cluster, behind sentinels
        var queue = new DelayedQueue(connection, "late-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        await System.Threading.Tasks.Task.Run(() => queue.EnqueueAsync(Task(1))); // the multiplexer's connection is up
        await _redis.Db.ExecuteAsync("CLIENT", "PAUSE", "3000", "WRITE");
        try
        {
            // From the thread pool: through the multiplexer, which sends the transaction and then waits past its timeout.
            var error = await Assert.ThrowsAnyAsync<Exception>(() => System.Threading.Tasks.Task.Run(() => queue.EnqueueAsync(Task(2))));
            Assert.Equal(FailureKind.Unavailable, Failures.Classify(error));
            Assert.False(Failures.NeverSent(error), $"a transaction sent whose reply was late was called never sent: {error.Message}");
        }
        finally
        {
            await _redis.Db.ExecuteAsync("CLIENT", "UNPAUSE");
        }
    }

    [Fact]
    public async Task AnEnqueueWhileRedisIsDownFailsAfterOneTimeout_SayingItWasNeverSent()
    {
        var server = new Delayed.Testing.LocalRedisServer(); // its own server: this one goes down
        using var connection = await DelayedConnection.ConnectAsync($"{server.Configuration},syncTimeout=3000,asyncTimeout=3000");
        var queue = new DelayedQueue(connection, "down");
        await OnThreadOfItsOwn(() => queue.EnqueueAsync(Task(1))); // the enqueue connection is open
        server.Dispose();
        await Eventually.True(() => !connection.Database.Multiplexer.IsConnected, "the client did not notice that its server stopped");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => OnThreadOfItsOwn(() => queue.EnqueueAsync(Task(2))));
        // One timeout (3 s) and the client's once-a-second check of its backlog; finding the server for the enqueue
        // connection through the multiplexer waited out a timeout of its own first (6 s and more).
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5.5), $"the enqueue failed after {clock.Elapsed}, more than one 3 s timeout");
        Assert.True(Failures.NeverSent(error), $"an enqueue that never left the client was not called never sent: {error.Message}");
    }
}
