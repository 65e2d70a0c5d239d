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
    private readonly RedisKey _tasks, _tokens, _processing, _inFlight, _workers, _control;
    private readonly RedisKey[] _scriptKeys;

    public DelayedQueue(DelayedConnection connection, string name)
    {
        Keys = new QueueKeys(name);
        Connection = connection;
        if (Keys.HashTag.Length == 0 && connection.IsCluster)
            throw new ArgumentException(
                $"Redis at {connection.DisplayName} is a cluster, where all keys of a queue must share one slot: give the queue a hash tag, " +
                $"e.g. '{{{name}}}' (its keys are then {{{name}}}, {{{name}}}_noti, {{{name}}}_processing). Python and Go workers must use the same name.",
                nameof(name));
        _tasks = Keys.Tasks;
        _tokens = Keys.Tokens;
        _processing = Keys.Processing;
        _inFlight = Keys.InFlight;
        _workers = Keys.Workers;
        _control = Keys.Control;
        _scriptKeys = Array.ConvertAll(Keys.All, k => (RedisKey)k);
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
        var pushTokens = transaction.ListRightPushAsync(_tokens, Repeat(Token, values.Length));
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
        RedisResult[] result;
        try
        {
            result = (RedisResult[])(await Db.ScriptEvaluateAsync(LuaScripts.Sweep, _scriptKeys, new RedisValue[] { TokenBatch }).ConfigureAwait(false))!;
        }
        catch (RedisServerException e) when (e.Message.Contains("non local key") || e.Message.Contains("same slot"))
        {
            throw new RedisServerException(
                $"Queue '{Name}' has an in-flight task under a worker id outside the queue's cluster slot (a Python or Go worker?), " +
                $"so the sweep cannot check that worker's liveness. Run such workers with ids that start with '{Keys.HashTag}', " +
                $"or keep the queue on a single Redis instance. Redis said: {e.Message}");
        }
        return new SweepResult(Name, (long)result[0], (long)result[1]);
    }

    /// <summary>Every in-flight task with its worker's liveness and registration, read in two round trips.</summary>
    public async Task<IReadOnlyList<InFlightTask>> GetInFlightAsync()
    {
        var batch = Db.CreateBatch();
        var entriesTask = batch.HashGetAllAsync(_processing);
        var stampsTask = batch.HashGetAllAsync(_inFlight);
        var workersTask = batch.HashGetAllAsync(_workers);
        var controlTask = batch.HashKeysAsync(_control);
        batch.Execute();
        var entries = await entriesTask.ConfigureAwait(false);
        var stamps = ToDictionary(await stampsTask.ConfigureAwait(false));
        var descriptions = ToDictionary(await workersTask.ConfigureAwait(false));
        var stopping = new HashSet<string>(Array.ConvertAll(await controlTask.ConfigureAwait(false), k => (string)k!));
        var liveness = await LivenessAsync(Array.ConvertAll(entries, e => (string)e.Name!)).ConfigureAwait(false);
        var result = new List<InFlightTask>(entries.Length);
        for (var i = 0; i < entries.Length; i++)
        {
            var id = (string)entries[i].Name!;
            var (alive, ttl) = liveness[i];
            var description = descriptions.TryGetValue(id, out var value) ? WorkerDescription.TryParse(value) : null;
            var worker = description is null ? null : new WorkerState(id, description, alive, ttl, stopping.Contains(id));
            result.Add(new InFlightTask(id, (byte[])entries[i].Value!, alive, ttl,
                stamps.TryGetValue(id, out var stamp) ? StampTime((string)stamp!) : null, worker));
        }
        return result;
    }

    /// <summary>The workers of this implementation registered on the queue, alive or not yet swept.</summary>
    public async Task<IReadOnlyList<WorkerState>> GetWorkersAsync()
    {
        var batch = Db.CreateBatch();
        var workersTask = batch.HashGetAllAsync(_workers);
        var controlTask = batch.HashKeysAsync(_control);
        batch.Execute();
        var entries = await workersTask.ConfigureAwait(false);
        var stopping = new HashSet<string>(Array.ConvertAll(await controlTask.ConfigureAwait(false), k => (string)k!));
        var liveness = await LivenessAsync(Array.ConvertAll(entries, e => (string)e.Name!)).ConfigureAwait(false);
        var result = new List<WorkerState>(entries.Length);
        for (var i = 0; i < entries.Length; i++)
        {
            var id = (string)entries[i].Name!;
            if (WorkerDescription.TryParse(entries[i].Value) is { } description)
                result.Add(new WorkerState(id, description, liveness[i].Alive, liveness[i].TimeToLive, stopping.Contains(id)));
        }
        return result;
    }

    /// <summary>Length, tokens, in-flight tasks and how many of their workers are alive.</summary>
    public async Task<QueueStatus> GetStatusAsync()
    {
        var batch = Db.CreateBatch();
        var length = batch.ListLengthAsync(_tasks);
        var tokens = batch.ListLengthAsync(_tokens);
        var holders = batch.HashKeysAsync(_processing);
        var workers = batch.HashLengthAsync(_workers);
        batch.Execute();
        var ids = Array.ConvertAll(await holders.ConfigureAwait(false), k => (string)k!);
        var liveness = await LivenessAsync(ids).ConfigureAwait(false);
        long alive = 0;
        foreach (var (isAlive, _) in liveness) if (isAlive) alive++;
        return new QueueStatus(await length.ConfigureAwait(false), await tokens.ConfigureAwait(false), ids.Length, alive, await workers.ConfigureAwait(false));
    }

    /// <summary>The bytes a worker holds now, or null.</summary>
    public async Task<byte[]?> GetHeldAsync(string workerId) =>
        (byte[]?)await Db.HashGetAsync(_processing, workerId).ConfigureAwait(false);

    /// <summary>The bytes at a position of the task list now, or null.</summary>
    public async Task<byte[]?> GetQueuedAsync(long position) =>
        (byte[]?)await Db.ListGetByIndexAsync(_tasks, position).ConfigureAwait(false);

    /// <summary>
    /// Up to <paramref name="count"/> waiting tasks from position <paramref name="skip"/>, without taking them: one
    /// LRANGE, so the tasks are those of one instant.
    /// </summary>
    public async Task<IReadOnlyList<QueuedTask>> PeekAsync(long skip, long count)
    {
        if (skip < 0) throw new ArgumentOutOfRangeException(nameof(skip), skip, "Skip cannot be negative.");
        if (count <= 0) return Array.Empty<QueuedTask>();
        var stop = count > long.MaxValue - skip ? -1 : skip + count - 1;
        var values = await Db.ListRangeAsync(_tasks, skip, stop).ConfigureAwait(false);
        var result = new QueuedTask[values.Length];
        for (var i = 0; i < values.Length; i++) result[i] = new QueuedTask(skip + i, (byte[])values[i]!);
        return result;
    }

    /// <summary>Puts an in-flight task back (head or tail) with its token, only if the worker still holds exactly <paramref name="task"/>.</summary>
    public async Task<AdminOutcome> RestoreAsync(string workerId, byte[] task, bool tail, bool force) =>
        Outcome((string?)await Db.ScriptEvaluateAsync(LuaScripts.Restore, _scriptKeys,
            new RedisValue[] { workerId, task, tail ? "tail" : "head", force ? "1" : "0" }).ConfigureAwait(false));

    /// <summary>Deletes an in-flight task, only if the worker still holds exactly <paramref name="task"/>.</summary>
    public async Task<AdminOutcome> RemoveInFlightAsync(string workerId, byte[] task, bool force) =>
        Outcome((string?)await Db.ScriptEvaluateAsync(LuaScripts.RemoveInFlight, _scriptKeys,
            new RedisValue[] { workerId, task, force ? "1" : "0" }).ConfigureAwait(false));

    /// <summary>Deletes a queued task with exactly these bytes (preferably the one at <paramref name="position"/>) and one token.</summary>
    public async Task<AdminOutcome> RemoveQueuedAsync(long position, byte[] task)
    {
        var marker = "__delayed_removed_" + Guid.NewGuid().ToString("N");
        var removed = (long)await Db.ScriptEvaluateAsync(LuaScripts.RemoveQueued, _scriptKeys,
            new RedisValue[] { position, task, marker }).ConfigureAwait(false);
        return removed == 1 ? AdminOutcome.Done : AdminOutcome.NotFound;
    }

    /// <summary>Asks a worker of this implementation to stop after its current task.</summary>
    public async Task<AdminOutcome> RequestStopAsync(string workerId) =>
        Outcome((string?)await Db.ScriptEvaluateAsync(LuaScripts.RequestStop, _scriptKeys, new RedisValue[] { workerId }).ConfigureAwait(false));

    private static AdminOutcome Outcome(string? reply) => reply switch
    {
        "restored" or "removed" or "requested" => AdminOutcome.Done,
        "not-held" => AdminOutcome.NotHeld,
        "alive" => AdminOutcome.WorkerAlive,
        "gone" => AdminOutcome.WorkerGone,
        _ => AdminOutcome.NotFound,
    };

    /// <summary>EXISTS and TTL of each liveness key, in one pipelined batch.</summary>
    private async Task<(bool Alive, TimeSpan? TimeToLive)[]> LivenessAsync(string[] ids)
    {
        var batch = Db.CreateBatch();
        var alive = new Task<bool>[ids.Length];
        var ttls = new Task<TimeSpan?>[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            alive[i] = batch.KeyExistsAsync(ids[i]);
            ttls[i] = batch.KeyTimeToLiveAsync(ids[i]);
        }
        batch.Execute();
        var result = new (bool, TimeSpan?)[ids.Length];
        for (var i = 0; i < ids.Length; i++) result[i] = (await alive[i].ConfigureAwait(false), await ttls[i].ConfigureAwait(false));
        return result;
    }

    private static Dictionary<string, RedisValue> ToDictionary(HashEntry[] entries)
    {
        var map = new Dictionary<string, RedisValue>(entries.Length);
        foreach (var entry in entries) map[(string)entry.Name!] = entry.Value;
        return map;
    }

    /// <summary>The claim time in a stamp "&lt;claim number&gt;:&lt;unix ms&gt;".</summary>
    internal static DateTimeOffset? StampTime(string stamp)
    {
        var colon = stamp.IndexOf(':');
        return colon > 0 && long.TryParse(stamp.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
    }

    /// <summary>Whether any key of the queue exists.</summary>
    public async Task<bool> ExistsAsync() => await Db.KeyExistsAsync(_scriptKeys).ConfigureAwait(false) > 0;

    /// <summary>Deletes the queue's keys and its extension keys; never a liveness key or any other key.</summary>
    public Task ClearAsync() => Db.KeyDeleteAsync(_scriptKeys);

    internal async Task<bool> RegisterAsync(string workerId, int ttlSeconds, WorkerDescription description) =>
        (long)await Db.ScriptEvaluateAsync(LuaScripts.Register, new RedisKey[] { workerId, _workers },
            new RedisValue[] { ttlSeconds, description.Serialize() }).ConfigureAwait(false) == 1;

    internal Task KeepAliveAsync(string workerId, int ttlSeconds) =>
        Db.ExecuteAsync("SETEX", workerId, ttlSeconds, Token);

    internal Task GoOfflineAsync(string workerId) =>
        Db.ScriptEvaluateAsync(LuaScripts.GoOffline, new RedisKey[] { workerId, _workers, _control });

    /// <summary>BLPOP on a dedicated connection; true when a token was taken.</summary>
    internal async Task<bool> WaitForTokenAsync(BlockingConnection blocking, TimeSpan timeout)
    {
        var reply = await blocking.Database.ExecuteAsync("BLPOP", _tokens, FormatSeconds(timeout)).ConfigureAwait(false);
        return !reply.IsNull;
    }

    /// <summary>Puts back a token taken by a waiter that will not claim after all.</summary>
    internal Task ReturnTokenAsync() => Db.ListLeftPushAsync(_tokens, Token);

    /// <summary>Runs <see cref="LuaScripts.FinishAndClaim"/>: the claimed task, nothing, a stop request, or a missing liveness key.</summary>
    internal async Task<ClaimReply> FinishAndClaimAsync(string workerId, ClaimMode mode, string claimStamp, string? finishStamp, byte[]? requeue)
    {
        var modeText = mode switch { ClaimMode.TakeToken => "token", ClaimMode.TokenTaken => "taken", _ => "none" };
        var reply = await Db.ScriptEvaluateAsync(LuaScripts.FinishAndClaim, _scriptKeys, new RedisValue[]
        {
            workerId, modeText, claimStamp, finishStamp ?? "", requeue ?? Array.Empty<byte>(),
        }).ConfigureAwait(false);
        if (reply.IsNull) return ClaimReply.Nothing;
        if (reply.Resp2Type != ResultType.Array) return ClaimReply.Of((byte[])reply!);
        return (string?)((RedisResult[])reply!)[0] == "unregistered" ? ClaimReply.NotRegistered : ClaimReply.Stop;
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
}
