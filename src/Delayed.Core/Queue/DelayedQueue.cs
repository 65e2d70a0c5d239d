using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading.Tasks;
using Delayed.Core.Protocol;
using Delayed.Core.Redis;
using StackExchange.Redis;

namespace Delayed.Core.Queue;

/// <summary>The protocol operations on one queue (PROTOCOL.md section 2).</summary>
public sealed class DelayedQueue
{
    /// <summary>Most tokens pushed by one command during a sweep (D6: Lua unpack fails near 8000).</summary>
    internal const int TokenBatch = 1000;

    private static readonly RedisValue Token = "1";
    private static readonly RedisValue[] TokenRun = Repeat(Token, TokenBatch);
    private readonly RedisKey _tasks, _tokens, _processing, _inFlight;
    private readonly RedisKey[] _scriptKeys;

    public DelayedQueue(DelayedConnection connection, string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("A queue needs a name.", nameof(name));
        Connection = connection;
        Keys = new QueueKeys(name);
        _tasks = Keys.Tasks;
        _tokens = Keys.Tokens;
        _processing = Keys.Processing;
        _inFlight = Keys.InFlight;
        _scriptKeys = new[] { _tasks, _tokens, _processing, _inFlight };
    }

    public string Name => Keys.Name;

    public QueueKeys Keys { get; }

    public DelayedConnection Connection { get; }

    private IDatabase Db => Connection.Database;

    /// <summary>Appends one task and its token atomically (MULTI/EXEC; the task is never after its token).</summary>
    public async Task EnqueueAsync(byte[] task)
    {
        var transaction = Db.CreateTransaction();
        var pushTask = transaction.ListRightPushAsync(_tasks, task ?? throw new ArgumentNullException(nameof(task)));
        var pushToken = transaction.ListRightPushAsync(_tokens, Token);
        await ExecuteAsync(transaction, pushTask, pushToken).ConfigureAwait(false);
    }

    /// <summary>Appends many tasks with one token each, atomically, in one round trip.</summary>
    public async Task EnqueueAsync(IReadOnlyList<byte[]> tasks)
    {
        if (tasks.Count == 0) return;
        var values = new RedisValue[tasks.Count];
        for (var i = 0; i < values.Length; i++)
            values[i] = tasks[i] ?? throw new ArgumentException("A task to enqueue is null.", nameof(tasks));
        var transaction = Db.CreateTransaction();
        var pushTasks = transaction.ListRightPushAsync(_tasks, values);
        var pushTokens = transaction.ListRightPushAsync(_tokens, values.Length <= TokenBatch ? Slice(TokenRun, values.Length) : Repeat(Token, values.Length));
        await ExecuteAsync(transaction, pushTasks, pushTokens).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(ITransaction transaction, Task<long> pushTasks, Task<long> pushTokens)
    {
        if (!await transaction.ExecuteAsync().ConfigureAwait(false))
            throw new InvalidOperationException("Redis discarded the enqueue transaction.");
        await pushTasks.ConfigureAwait(false);
        await pushTokens.ConfigureAwait(false);
    }

    /// <summary>Tasks waiting to run (in-flight tasks not counted).</summary>
    public Task<long> GetLengthAsync() => Db.ListLengthAsync(_tasks);

    /// <summary>One atomic sweep: recover tasks of dead workers, repair the token count.</summary>
    public async Task<SweepResult> SweepAsync()
    {
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(LuaScripts.Sweep, _scriptKeys, new RedisValue[] { TokenBatch }).ConfigureAwait(false))!;
        return new SweepResult(Name, (long)result[0], (long)result[1]);
    }

    /// <summary>Every in-flight task with its worker's liveness, read in one pipelined batch.</summary>
    public async Task<IReadOnlyList<InFlightTask>> GetInFlightAsync()
    {
        var entriesTask = Db.HashGetAllAsync(_processing);
        var stampsTask = Db.HashGetAllAsync(_inFlight);
        var entries = await entriesTask.ConfigureAwait(false);
        var stamps = new Dictionary<string, string>();
        foreach (var stamp in await stampsTask.ConfigureAwait(false)) stamps[(string)stamp.Name!] = (string)stamp.Value!;
        var batch = Db.CreateBatch();
        var ttls = new Task<TimeSpan?>[entries.Length];
        var alive = new Task<bool>[entries.Length];
        for (var i = 0; i < entries.Length; i++)
        {
            alive[i] = batch.KeyExistsAsync((string)entries[i].Name!);
            ttls[i] = batch.KeyTimeToLiveAsync((string)entries[i].Name!);
        }
        batch.Execute();
        await Task.WhenAll(Task.WhenAll(alive), Task.WhenAll(ttls)).ConfigureAwait(false);
        var result = new List<InFlightTask>(entries.Length);
        for (var i = 0; i < entries.Length; i++)
        {
            var id = (string)entries[i].Name!;
            result.Add(new InFlightTask(id, (byte[])entries[i].Value!, alive[i].Result, ttls[i].Result,
                stamps.TryGetValue(id, out var stamp) ? StampTime(stamp) : null));
        }
        return result;
    }

    /// <summary>The claim time in a stamp "&lt;claim number&gt;:&lt;unix ms&gt;".</summary>
    internal static DateTimeOffset? StampTime(string stamp)
    {
        var colon = stamp.IndexOf(':');
        return colon > 0 && long.TryParse(stamp.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
    }

    /// <summary>Deletes the queue's keys and its extension keys; never a liveness key or any other key.</summary>
    public Task ClearAsync() => Db.KeyDeleteAsync(_scriptKeys);

    internal Task<bool> RegisterAsync(string workerId, int ttlSeconds) =>
        Db.StringSetAsync(workerId, Token, TimeSpan.FromSeconds(ttlSeconds), When.NotExists);

    internal Task KeepAliveAsync(string workerId, int ttlSeconds) =>
        Db.ExecuteAsync("SETEX", workerId, ttlSeconds, Token);

    internal Task GoOfflineAsync(string workerId) => Db.KeyDeleteAsync(workerId);

    /// <summary>BLPOP on a dedicated connection; true when a token was taken.</summary>
    internal async Task<bool> WaitForTokenAsync(BlockingConnection blocking, TimeSpan timeout)
    {
        var reply = await blocking.Database.ExecuteAsync("BLPOP", _tokens, FormatSeconds(timeout)).ConfigureAwait(false);
        return !reply.IsNull;
    }

    /// <summary>Puts back a token taken by a waiter that will not claim after all.</summary>
    internal Task ReturnTokenAsync() => Db.ListLeftPushAsync(_tokens, Token);

    /// <summary>Runs <see cref="LuaScripts.FinishAndClaim"/>; returns the claimed task, or null.</summary>
    internal async Task<byte[]?> FinishAndClaimAsync(string workerId, ClaimMode mode, string claimStamp, string? finishStamp, byte[]? requeue)
    {
        var modeText = mode switch { ClaimMode.TakeToken => "token", ClaimMode.TokenTaken => "taken", _ => "none" };
        var reply = await Db.ScriptEvaluateAsync(LuaScripts.FinishAndClaim, _scriptKeys, new RedisValue[]
        {
            workerId, modeText, claimStamp, finishStamp ?? "", requeue ?? Array.Empty<byte>(),
        }).ConfigureAwait(false);
        return reply.IsNull ? null : (byte[]?)reply;
    }

    /// <summary>A BLPOP timeout as Redis takes it: an integer when whole, else decimal seconds (Redis 6+).</summary>
    internal static string FormatSeconds(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(timeout), "The dequeue timeout must be positive: 0 would block forever.");
        var seconds = timeout.TotalSeconds;
        return seconds == Math.Floor(seconds)
            ? ((long)seconds).ToString(CultureInfo.InvariantCulture)
            : Math.Round(seconds, 3).ToString("0.###", CultureInfo.InvariantCulture);
    }

    private static RedisValue[] Repeat(RedisValue value, int count)
    {
        var values = new RedisValue[count];
        for (var i = 0; i < count; i++) values[i] = value;
        return values;
    }

    private static RedisValue[] Slice(RedisValue[] values, int count)
    {
        if (count == values.Length) return values;
        var slice = new RedisValue[count];
        Array.Copy(values, slice, count);
        return slice;
    }
}
