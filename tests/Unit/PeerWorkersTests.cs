using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Redis;
using Delayed.Core.Worker;
using StackExchange.Redis;
using Xunit;

namespace Delayed.Tests;

/// <summary>
/// This module's workers and workers of the Python and Go shape on one queue at once, as users run them while they move
/// from one implementation to another. What the peers rely on (docs/protocol.md, Claim): a claim of ours never takes a
/// task whose token a peer has taken, which would leave that peer's dequeue script an empty list (its claim fails, the
/// task runs elsewhere or twice). The manual check with the real Python worker is tests/Interop; this one runs in CI.
/// </summary>
[Collection("redis")]
public class PeerWorkersTests
{
    /// <summary>The Python and Go workers' dequeue script, as the protocol gives it: pop the task, record it as processing.</summary>
    internal const string PeerDequeue = "local t = redis.call('LPOP', KEYS[1]) redis.call('HSET', KEYS[2], ARGV[1], t) return t";

    private readonly RedisFixture _redis;

    public PeerWorkersTests(RedisFixture redis) => _redis = redis;

    [Fact]
    public async Task OurSlotsAndPeerWorkersShareAQueueWhileTasksTrickleIn_EachTaskRunsOnce_AndNoPeersClaimFindsItsTaskGone()
    {
        const int count = 600;
        var queue = _redis.NewQueue();
        var ranByUs = new ConcurrentBag<long>();
        var ranByPeers = new ConcurrentBag<long>();
        var peerFailures = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        // Two slots that wait 50 ms at a time: idle between tasks, their waits time out often, the moment the protocol's
        // peers are most exposed to (a claim of ours after a timed-out wait must not take the task of a peer's token).
        var worker = new DelayedWorker(queue, new DelegateRegistry().Add("interop:record", context => ranByUs.Add((long)context.Task.Arguments[0]!)),
            new WorkerOptions { DequeueTimeout = TimeSpan.FromMilliseconds(50), Concurrency = 2 });
        var ours = worker.RunAsync(stop.Token);
        // Two peers, each a connection of its own as a Python or Go process has: BLPOP with the same short timeout, then
        // the dequeue script; a Python worker's release (HDEL processing) after running.
        using var peerConnection0 = await DelayedConnection.ConnectAsync(_redis.Server.Configuration);
        using var peerConnection1 = await DelayedConnection.ConnectAsync(_redis.Server.Configuration);
        var peers = new[] { peerConnection0, peerConnection1 }
            .Select((connection, i) => RunPeerAsync(connection.Database, queue.Keys, $"peer{i}", ranByPeers, peerFailures, stop.Token)).ToArray();
        try
        {
            // Tasks 0 to 20 ms apart, so that both sides go idle and wake again hundreds of times; a burst now and then.
            var random = new Random(20261204);
            for (var i = 0; i < count; i++)
            {
                await queue.EnqueueAsync(TaskEncoder.EncodePython("interop:record", new object[] { i }, null, 0));
                if (i % 100 != 99) await Task.Delay(random.Next(0, 21));
            }
            await Eventually.True(() => ranByUs.Count + ranByPeers.Count >= count, $"all {count} tasks to run", 60,
                () => $"ours {ranByUs.Count}, peers {ranByPeers.Count}, peer failures: {string.Join(" | ", peerFailures)}");
        }
        finally
        {
            stop.Cancel();
            await ours;
            await Task.WhenAll(peers);
        }
        Assert.Empty(peerFailures);
        var all = ranByUs.Concat(ranByPeers).OrderBy(i => i).ToList();
        Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), all); // each once: none lost, none run twice
        // The premise: both kinds of worker took part, many times each.
        Assert.True(ranByUs.Count > count / 10 && ranByPeers.Count > count / 10, $"ours ran {ranByUs.Count}, the peers {ranByPeers.Count}");
        Assert.Equal(0, await queue.GetLengthAsync());
        Assert.Equal(0, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        Assert.False(await _redis.Db.KeyExistsAsync(queue.Keys.Waking));
    }

    private static async Task RunPeerAsync(IDatabase db, Delayed.Core.Protocol.QueueKeys keys, string id, ConcurrentBag<long> ran,
        ConcurrentQueue<string> failures, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var token = await db.ExecuteAsync("BLPOP", keys.Tokens, "0.05");
            if (token.IsNull) continue;
            try
            {
                var task = (byte[]?)await db.ScriptEvaluateAsync(PeerDequeue, new RedisKey[] { keys.Tasks, keys.Processing }, new RedisValue[] { id });
                ran.Add((long)TaskDecoder.Decode(task!).Arguments[0]!);
                await db.HashDeleteAsync(keys.Processing, id);
            }
            catch (RedisServerException e)
            {
                // What the Python and Go workers log as "Failed to dequeue task": a token without its task.
                failures.Enqueue(e.Message);
            }
        }
    }
}
