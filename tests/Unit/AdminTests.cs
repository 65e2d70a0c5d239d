using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Worker;
using Xunit;

namespace Delayed.Tests;

/// <summary>Inspection and repair: status, peek, restore, remove, remote stop, and the extension keys' lifetimes.</summary>
[Collection("redis")]
public class AdminTests
{
    private readonly RedisFixture _redis;

    public AdminTests(RedisFixture redis) => _redis = redis;

    private static byte[] Task(int i) => TaskEncoder.EncodePython("m:f", new object[] { i }, null, 0);

    /// <summary>Claims one task under <paramref name="workerId"/> as a worker would; a dead one's key is then gone.</summary>
    private async Task<byte[]> Hold(DelayedQueue queue, string workerId, bool alive)
    {
        await _redis.Db.StringSetAsync(workerId, "1", TimeSpan.FromSeconds(60));
        var task = (await queue.FinishAndClaimAsync(workerId, ClaimMode.TakeToken, "1:1", null, null)).Task!;
        if (!alive) await _redis.Db.KeyDeleteAsync(workerId);
        return task;
    }

    [Fact]
    public async Task StatusCountsLengthTokensInFlightAndLiveHolders()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(Enumerable.Range(0, 5).Select(Task).ToList());
        await Hold(queue, queue.Name + "-alive", alive: true);
        await Hold(queue, queue.Name + "-dead", alive: false);
        await _redis.Db.ListRightPushAsync(queue.Keys.Tokens, "1");
        var status = await queue.GetStatusAsync();
        Assert.Equal((3L, 4L, 2L, 1L), (status.Length, status.Tokens, status.InFlight, status.InFlightWorkersAlive));
    }

    [Fact]
    public async Task PeekReadsARangeWithoutTakingIt()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(Enumerable.Range(0, 50).Select(Task).ToList());
        var page = await queue.PeekAsync(10, 5);
        Assert.Equal(new long[] { 10, 11, 12, 13, 14 }, page.Select(t => t.Position));
        Assert.Equal(Task(12), page[2].Raw);
        Assert.Equal(50, await queue.GetLengthAsync());
        Assert.Empty(await queue.PeekAsync(50, 5));
    }

    [Fact]
    public async Task RestoreMovesTheExactTaskBackOnceAndRefusesALiveWorkerUnlessForced()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(new[] { Task(1), Task(2) });
        var dead = await Hold(queue, queue.Name + "-dead", alive: false);
        Assert.Equal(AdminOutcome.Done, await queue.RestoreAsync(queue.Name + "-dead", dead, tail: false, force: false));
        Assert.Equal(AdminOutcome.NotHeld, await queue.RestoreAsync(queue.Name + "-dead", dead, tail: false, force: false));
        Assert.Equal(dead, (byte[])(await _redis.Db.ListGetByIndexAsync(queue.Keys.Tasks, 0))!); // at the head
        Assert.Equal(2, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));

        var live = await Hold(queue, queue.Name + "-live", alive: true);
        Assert.Equal(AdminOutcome.WorkerAlive, await queue.RestoreAsync(queue.Name + "-live", live, tail: true, force: false));
        Assert.Equal(AdminOutcome.NotHeld, await queue.RestoreAsync(queue.Name + "-live", Task(99), tail: true, force: true));
        Assert.Equal(AdminOutcome.Done, await queue.RestoreAsync(queue.Name + "-live", live, tail: true, force: true));
        Assert.Equal(live, (byte[])(await _redis.Db.ListGetByIndexAsync(queue.Keys.Tasks, -1))!); // at the tail
        Assert.Equal(0, await _redis.Db.HashLengthAsync(queue.Keys.Processing));
        Assert.Equal(0, await _redis.Db.HashLengthAsync(queue.Keys.InFlight));
    }

    [Fact]
    public async Task ARestoreNeverRacesTheWorkersRelease()
    {
        // Whichever comes first wins; the task ends up queued exactly once or released, never both or neither.
        for (var round = 0; round < 20; round++)
        {
            var queue = _redis.NewQueue();
            await queue.EnqueueAsync(Task(round));
            var id = queue.Name + "-w";
            var held = await Hold(queue, id, alive: true);
            var release = queue.FinishAndClaimAsync(id, ClaimMode.None, "", "1:1", null);
            var restore = queue.RestoreAsync(id, held, tail: true, force: true);
            await System.Threading.Tasks.Task.WhenAll(release, restore);
            var queued = await queue.GetLengthAsync();
            Assert.Equal(await restore == AdminOutcome.Done ? 1 : 0, queued);
            Assert.Equal(queued, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
            Assert.Equal(0, await _redis.Db.HashLengthAsync(queue.Keys.Processing));
        }
    }

    [Fact]
    public async Task RemoveDeletesAQueuedTaskWithOneTokenOrAnInFlightOne()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(Enumerable.Range(0, 4).Select(Task).ToList());
        Assert.Equal(AdminOutcome.Done, await queue.RemoveQueuedAsync(2, Task(2)));
        Assert.Equal(new[] { Task(0), Task(1), Task(3) }, (await _redis.Db.ListRangeAsync(queue.Keys.Tasks)).Select(v => (byte[])v!));
        Assert.Equal(3, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.Equal(AdminOutcome.Done, await queue.RemoveQueuedAsync(0, Task(3))); // moved: found by its bytes
        Assert.Equal(AdminOutcome.NotFound, await queue.RemoveQueuedAsync(0, Task(3)));

        var held = await Hold(queue, queue.Name + "-w", alive: true);
        Assert.Equal(AdminOutcome.WorkerAlive, await queue.RemoveInFlightAsync(queue.Name + "-w", held, force: false));
        Assert.Equal(AdminOutcome.Done, await queue.RemoveInFlightAsync(queue.Name + "-w", held, force: true));
        Assert.Equal(AdminOutcome.NotHeld, await queue.RemoveInFlightAsync(queue.Name + "-w", held, force: true));
    }

    [Fact]
    public async Task AWorkerRecordsItselfAndStopsWhenAsked_AndLeavesNothingBehind()
    {
        var queue = _redis.NewQueue();
        var options = new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100), Concurrency = 2 };
        var worker = new DelayedWorker(queue, new DelegateRegistry(), options);
        var run = worker.RunAsync();
        await Eventually.True(async () => (await queue.GetWorkersAsync()).Count == 2, "the two slots did not register", 10);
        var workers = await queue.GetWorkersAsync();
        Assert.Equal(2, workers.Count);
        Assert.All(workers, w =>
        {
            Assert.Equal(Environment.MachineName, w.Description.Host);
            Assert.Equal(Environment.ProcessId, w.Description.ProcessId);
            Assert.True(w.Alive);
            Assert.InRange(w.SinceLastRefresh!.Value.TotalSeconds, 0, 15);
        });
        Assert.Equal(AdminOutcome.NotFound, await queue.RequestStopAsync("python-worker-12623"));
        Assert.Equal(AdminOutcome.Done, await queue.RequestStopAsync(workers[0].WorkerId));
        await run.WaitAsync(TimeSpan.FromSeconds(5)); // one slot's stop request stops the whole worker
        Assert.Empty(await queue.GetWorkersAsync());
        Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.Control));
        Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.Workers));
    }

    [Fact]
    public async Task ASweepRemovesTheEntriesOfACrashedWorker()
    {
        var queue = _redis.NewQueue();
        await _redis.Db.HashSetAsync(queue.Keys.Workers, "crashed", "x");
        await _redis.Db.HashSetAsync(queue.Keys.Control, "crashed", "stop");
        await _redis.Db.HashSetAsync(queue.Keys.Workers, queue.Name + "-alive", "x");
        await _redis.Db.StringSetAsync(queue.Name + "-alive", "1", TimeSpan.FromSeconds(60));
        await queue.SweepAsync();
        Assert.Equal(new[] { queue.Name + "-alive" }, (await _redis.Db.HashKeysAsync(queue.Keys.Workers)).Select(k => (string)k!));
        Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.Control));
    }

    [Fact]
    public async Task InFlightTasksCarryTheirWorkersRegistration()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(Task(1));
        var started = new TaskCompletionSource();
        var finish = new TaskCompletionSource();
        var run = new DelayedWorker(queue, new DelegateRegistry().Add("m:f", async _ => { started.SetResult(); await finish.Task; }),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(100), StopWhenEmpty = true }).RunAsync();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var inFlight = Assert.Single(await queue.GetInFlightAsync());
        Assert.NotNull(inFlight.Worker);
        Assert.Equal(Environment.ProcessId, inFlight.Worker!.Description.ProcessId);
        Assert.NotNull(inFlight.StartedAt);
        finish.SetResult();
        await run;
    }

    [Fact]
    public async Task AnEntryWithValuesNoWorkerCouldHaveWrittenIsFlagged_AndTheRestAreStillListed()
    {
        var queue = _redis.NewQueue();
        var good = new WorkerDescription("web01", 42, DateTimeOffset.UtcNow, 60);
        await _redis.Db.HashSetAsync(queue.Keys.Workers, "good", good.Serialize());
        // A start time far beyond what a date can hold, and bytes that are not MessagePack at all.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePack.MessagePackWriter(buffer);
        writer.WriteMapHeader(4);
        writer.Write("host"); writer.Write("x");
        writer.Write("pid"); writer.Write(1);
        writer.Write("started"); writer.Write(long.MaxValue);
        writer.Write("ttl"); writer.Write(60);
        writer.Flush();
        await _redis.Db.HashSetAsync(queue.Keys.Workers, "far", buffer.WrittenMemory.ToArray());
        await _redis.Db.HashSetAsync(queue.Keys.Workers, "junk", new byte[] { 0xc1 });
        await _redis.Db.HashSetAsync(queue.Keys.Processing, "far", TaskEncoder.EncodePython("m:f", null, null, 0));
        await _redis.Db.HashSetAsync(queue.Keys.InFlight, "far", "1:99999999999999999");

        var workers = (await queue.GetWorkersAsync()).ToDictionary(w => w.WorkerId);
        Assert.Equal(3, workers.Count);
        Assert.Null(workers["good"].Description.Problem);
        Assert.Contains("out of range", workers["far"].Description.Problem);
        Assert.Contains("not MessagePack", workers["junk"].Description.Problem);
        var held = Assert.Single(await queue.GetInFlightAsync());
        Assert.Null(held.StartedAt);
        Assert.NotNull(held.Worker!.Description.Problem);
    }

    [Fact]
    public async Task AWorkerOfSeveralQueuesNamesThem_AndAStopIsWrittenOnlyWhereTheWorkerIsListed()
    {
        var home = _redis.NewQueue();
        var listing = _redis.NewQueue();
        var notListing = _redis.NewQueue();
        const string id = "0123456789abcdef0123456789abcd01";
        var description = new WorkerDescription("web01", 42, DateTimeOffset.UtcNow, 60, new[] { home.Name, listing.Name, notListing.Name, "bad_noti", "" });
        await _redis.Db.StringSetAsync(id, "1");
        await _redis.Db.HashSetAsync(home.Keys.Workers, id, description.Serialize());
        await _redis.Db.HashSetAsync(listing.Keys.Workers, id, description.Serialize());

        var read = Assert.Single(await home.GetWorkersAsync());
        Assert.Equal(new[] { home.Name, listing.Name, notListing.Name, "bad_noti", "" }, read.Description.Queues);
        Assert.Equal(AdminOutcome.Done, await home.RequestStopAsync(id));
        Assert.True(await _redis.Db.HashExistsAsync(home.Keys.Control, id));
        Assert.True(await _redis.Db.HashExistsAsync(listing.Keys.Control, id));
        Assert.False(await _redis.Db.KeyExistsAsync(notListing.Keys.Control), "a queue that does not list the worker was written to");
        Assert.False(await _redis.Db.KeyExistsAsync("bad_noti_control"));
    }

    [Fact]
    public async Task AWorkerOfOneQueueWritesNoQueueList_AndABadListIsFlagged()
    {
        var queue = _redis.NewQueue();
        var single = WorkerDescription.OfThisProcess(60, new[] { queue.Name });
        Assert.Empty(single.Queues);
        Assert.Equal(4, MessagePack.MessagePackSerializer.Deserialize<System.Collections.Generic.Dictionary<string, object>>(single.Serialize()).Count);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var writer = new MessagePack.MessagePackWriter(buffer);
        writer.WriteMapHeader(5);
        writer.Write("host"); writer.Write("x");
        writer.Write("pid"); writer.Write(1);
        writer.Write("started"); writer.Write(0L);
        writer.Write("ttl"); writer.Write(60);
        writer.Write("queues"); writer.WriteArrayHeader(1); writer.Write(7);
        writer.Flush();
        Assert.Contains("queues", WorkerDescription.TryParse(buffer.WrittenMemory.ToArray())!.Problem);
    }
}
