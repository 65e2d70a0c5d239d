using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Protocol;
using Delayed.Core.Redis;
using Delayed.Core.Telemetry;
using StackExchange.Redis;

namespace Delayed.Core.Queue;

/// <summary>The protocol operations on one queue (docs/protocol.md, Operations).</summary>
public sealed class DelayedQueue
{
    /// <summary>Most tokens pushed by one command during a sweep (Lua's unpack fails near 8000 values).</summary>
    internal const int TokenBatch = 1000;

    /// <summary>Most due tasks one promotion moves.</summary>
    internal const int PromoteBatch = 1000;

    private static readonly RedisValue Token = "1";
    private static readonly string Host = Environment.MachineName;
    private readonly RedisKey _tasks, _tokens, _processing, _inFlight, _workers, _control;
    private readonly RedisKey[] _tokenKeys; // a one-queue wait's keys, the same array each time
    private readonly RedisKey _waking;
    private readonly RedisKey[] _waitedKeys; // the claim behind a wait: the script keys and the waking list
    /// <summary>The task list's and token list's names as the enqueue connection writes them.</summary>
    private readonly byte[] _tasksKey, _tokensKey;
    private readonly RedisKey[] _scriptKeys;
    private readonly RedisKey[] _promoteKeys;

    /// <summary>
    /// The KEYS of the scripts of a tracked task's caller (enqueue, stop, reconcile): laid out as <see cref="QueueKeys.All"/>,
    /// with the keys they do not touch replaced by the task list, so that an enqueuer's account needs only the keys it uses.
    /// </summary>
    private readonly RedisKey[] _trackingKeys;

    /// <summary>The KEYS of <see cref="LuaScripts.EnqueueUnique"/>: <see cref="_trackingKeys"/>, then the unique set.</summary>
    private readonly RedisKey[] _uniqueKeys;

    /// <summary>The keys a claim from this queue needs, when a worker of several queues claims (LuaScripts.FinishAndClaim).</summary>
    private readonly RedisKey[] _claimKeys;
    private const int ClaimKeyCount = 6;

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
        _tokenKeys = new[] { _tokens };
        _waking = Keys.Waking;
        _tasksKey = Encoding.UTF8.GetBytes(Keys.Tasks);
        _tokensKey = Encoding.UTF8.GetBytes(Keys.Tokens);
        _processing = Keys.Processing;
        _inFlight = Keys.InFlight;
        _workers = Keys.Workers;
        _control = Keys.Control;
        _scriptKeys = Array.ConvertAll(Keys.All, k => (RedisKey)k);
        _waitedKeys = _scriptKeys.Concat(new RedisKey[] { _waking }).ToArray(); // KEYS[14]
        _claimKeys = new RedisKey[] { Keys.Tasks, Keys.Tokens, Keys.Processing, Keys.InFlight, Keys.Counters, Keys.Tracked };
        _promoteKeys = _scriptKeys.Concat(new RedisKey[] { Keys.RecurringDue, Keys.Recurring }).ToArray(); // KEYS[14], KEYS[15]
        _trackingKeys = Array.ConvertAll(_scriptKeys, _ => (RedisKey)Keys.Tasks);
        _trackingKeys[1] = Keys.Tokens;
        _trackingKeys[6] = Keys.Scheduled;
        _trackingKeys[11] = Keys.Tracked;
        _trackingKeys[12] = Keys.TrackedEnded;
        _uniqueKeys = _trackingKeys.Concat(new RedisKey[] { Keys.Unique }).ToArray();
    }

    public string Name => Keys.Name;

    public QueueKeys Keys { get; }

    public DelayedConnection Connection { get; }

    /// <summary>Most tasks the failed store keeps (default 10,000; 0 keeps none); the oldest go first.</summary>
    public int FailedTaskLimit { get; set; } = 10_000;

    /// <summary>How long the failed store keeps a task (default 7 days).</summary>
    public TimeSpan FailedTaskRetention
    {
        get => TimeSpan.FromMilliseconds(_failedRetentionMs);
        set => _failedRetentionMs = value > TimeSpan.Zero
            ? (long)value.TotalMilliseconds
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The failed-task retention must be positive; to keep no failed tasks, set FailedTaskLimit to 0.");
    }

    private long _failedRetentionMs = (long)TimeSpan.FromDays(7).TotalMilliseconds;

    /// <summary>
    /// How often a sweep puts back the same task after its worker died before it counts as lost (default 3; 0 for
    /// never): a task that crashes or kills its worker then goes to the failed store as WorkerLost.
    /// </summary>
    public int MaxRecoveries { get; set; } = 3;

    private IDatabase Db => Connection.Database;

    /// <summary>Appends one task and its token atomically (MULTI/EXEC; the task is never after its token).</summary>
    /// <remarks>
    /// A caller on a thread of its own (a PowerShell pipeline, a script's or a handler's thread: not the thread pool)
    /// makes the round trip on that thread, through the connection's synchronous enqueue connection, one such caller at
    /// a time, and gets a completed task back: on busy cores the multiplexer's hand-offs of each reply between threads
    /// cost several times the round trip (bench/README.md). Callers on the thread pool, where a thread held through a
    /// round trip would delay the other callers, send through the pipelined enqueue connection, whose reader thread
    /// completes the returned task and runs the caller's code on from there until it next awaits (so keep code after the
    /// await short, or move long work off with Task.Run: code holding that thread while other replies are due is taken
    /// over from after 20 ms). Every call on a cluster goes through the multiplexer, and so do the thread pool's behind
    /// sentinels. Every way the same commands, atomically.
    /// </remarks>
    public Task EnqueueAsync(byte[] task) => EnqueueAsync(new[] { task ?? throw new ArgumentNullException(nameof(task)) });

    /// <summary>Appends many tasks with one token each, atomically, in one round trip (as the single-task form, on the caller's thread when free).</summary>
    public Task EnqueueAsync(IReadOnlyList<byte[]> tasks)
    {
        if (tasks.Count == 0) return Task.CompletedTask;
        for (var i = 0; i < tasks.Count; i++)
        {
            if (tasks[i] is null) throw new ArgumentException("A task to enqueue is null.", nameof(tasks));
        }
        try
        {
            // Never on the thread pool: 64 callers there, one of them holding a pool thread per round trip and the others
            // waiting for replies read on that pool, fell from 96,000 to 17,000 tasks/s. Nor on the pipelined connection's
            // reader, where a caller's code continued after its last enqueue: its next goes there too.
            if (!Thread.CurrentThread.IsThreadPoolThread && !PipelinedEnqueueConnection.OnReaderThread)
            {
                if (Connection.EnqueueConnection?.TryEnqueue(_tasksKey, _tokensKey, tasks) == true)
                {
                    DelayedMetrics.TasksEnqueued(Name, tasks.Count);
                    return Task.CompletedTask;
                }
            }
            else if (Connection.PipelinedEnqueue?.TryEnqueue(_tasksKey, _tokensKey, tasks, Name) is { } sent)
            {
                return sent;
            }
        }
        catch (Exception e) when (e is RedisException)
        {
            return Task.FromException(e);
        }
        return EnqueueThroughMultiplexerAsync(tasks);
    }

    private async Task EnqueueThroughMultiplexerAsync(IReadOnlyList<byte[]> tasks)
    {
        var values = new RedisValue[tasks.Count];
        for (var i = 0; i < values.Length; i++) values[i] = tasks[i];
        // Once without TransactAsync's delegate and loop (250 bytes a call to a busy enqueuer); through it when refused as
        // it describes.
        var transaction = Db.CreateTransaction();
        var (pushTasks, pushTokens) = Push(transaction, values);
        try
        {
            if (!await transaction.ExecuteAsync().ConfigureAwait(false)) throw new InvalidOperationException("Redis discarded the transaction.");
        }
        catch (Exception e)
        {
            Observe(pushTasks);
            Observe(pushTokens);
            if (!RefusedWholeOnCluster(e)) throw;
            await EnqueueAgainAsync(values).ConfigureAwait(false);
            return;
        }
        await pushTasks.ConfigureAwait(false);
        await pushTokens.ConfigureAwait(false);
        DelayedMetrics.TasksEnqueued(Name, values.Length);
    }

    /// <summary>Through <see cref="TransactAsync{T}"/>, in a method of its own: its delegate is allocated only here.</summary>
    private async Task EnqueueAgainAsync(RedisValue[] values)
    {
        await TransactAsync(async transaction =>
        {
            var (pushTasks, pushTokens) = Push(transaction, values);
            await pushTasks.ConfigureAwait(false);
            return await pushTokens.ConfigureAwait(false);
        }).ConfigureAwait(false);
        DelayedMetrics.TasksEnqueued(Name, values.Length);
    }

    /// <summary>Adds the tasks and a token each to <paramref name="transaction"/>; the replies complete once it ran.</summary>
    private (Task<long> Tasks, Task<long> Tokens) Push(ITransaction transaction, RedisValue[] values) =>
        (transaction.ListRightPushAsync(_tasks, values), transaction.ListRightPushAsync(_tokens, Repeat(Token, values.Length)));

    /// <summary>A transaction refused whole on a cluster, as a node that no longer holds the slot refuses it (<see cref="TransactAsync{T}"/>).</summary>
    private bool RefusedWholeOnCluster(Exception e) =>
        e is RedisServerException { Message: var message } && message.StartsWith("EXECABORT", StringComparison.Ordinal) && Connection.IsCluster;

    /// <summary>The replies of a transaction that did not run fail too: observed, as nobody awaits them.</summary>
    private static void Observe(Task replies) =>
        replies.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    /// <summary>How long a transaction refused whole on a cluster is run again (<see cref="TransactAsync{T}"/>).</summary>
    internal static TimeSpan ClusterSettling { get; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Runs a transaction of commands on this queue's keys, which <paramref name="queue"/> adds (awaiting their replies
    /// only after it returns), and returns what it makes of the replies.
    /// </summary>
    /// <remarks>
    /// On a cluster, after a failover, the client goes on sending to the node that held the queue's slot, which refuses a
    /// transaction whole (EXECABORT: nothing ran), until it next asks the servers their roles (every two seconds:
    /// <see cref="DelayedConnection"/>). A refused transaction therefore runs again, for up to <see cref="ClusterSettling"/>,
    /// instead of failing every enqueue of those seconds.
    /// </remarks>
    internal async Task<T> TransactAsync<T>(Func<ITransaction, Task<T>> queue)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            var transaction = Db.CreateTransaction();
            var replies = queue(transaction);
            try
            {
                if (!await transaction.ExecuteAsync().ConfigureAwait(false))
                    throw new InvalidOperationException("Redis discarded the transaction.");
            }
            catch (Exception e)
            {
                Observe(replies);
                var settling = System.Diagnostics.Stopwatch.GetTimestamp() - started < ClusterSettling.TotalSeconds * System.Diagnostics.Stopwatch.Frequency;
                if (!settling || !RefusedWholeOnCluster(e)) throw;
                await Task.Delay(100).ConfigureAwait(false);
                continue;
            }
            return await replies.ConfigureAwait(false);
        }
    }

    /// <summary>Tasks waiting to run (in-flight tasks not counted).</summary>
    public Task<long> GetLengthAsync() => Db.ListLengthAsync(_tasks);

    /// <summary>One atomic sweep: recover tasks of dead workers, repair the token count, look for tracked tasks taken untracked.</summary>
    public async Task<SweepResult> SweepAsync()
    {
        RedisResult[] result;
        try
        {
            result = (RedisResult[])(await Db.ScriptEvaluateAsync(LuaScripts.Sweep, _scriptKeys, new RedisValue[]
            {
                Connection.IsCluster ? Keys.HashTag : "", MaxRecoveries, ScheduledEntry.NewId() + "-", FailedTaskLimit, _failedRetentionMs,
                TrackedReconciler.DefaultBudget, TrackedReconciler.SweepPage, TrackedReconciler.SweepPages,
            }).ConfigureAwait(false))!;
        }
        catch (RedisServerException e) when (e.Message.Contains("non local key") || e.Message.Contains("same slot"))
        {
            throw new RedisServerException(
                $"Queue '{Name}' has a worker id outside the queue's cluster slot, so the sweep cannot check that worker's liveness. " +
                $"Run workers with ids that start with '{Keys.HashTag}', or keep the queue on a single Redis instance. Redis said: {e.Message}");
        }
        DelayedMetrics.TasksRecovered(Name, (long)result[0]);
        return new SweepResult(Name, (long)result[0], (long)result[1], (long)result[2], (long)result[3], (long)result[4],
            result.Length > 5 ? (string?)result[5] : null);
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
                stamps.TryGetValue(id, out var stamp) ? StampTime((string)stamp!) : null, worker, stamp.HasValue ? StampClaims((string)stamp!) : null));
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
        var scheduled = batch.SortedSetLengthAsync(Keys.Scheduled);
        var failed = batch.SortedSetLengthAsync(Keys.Failed);
        var paused = batch.StringGetAsync(Keys.Paused);
        batch.Execute();
        var ids = Array.ConvertAll(await holders.ConfigureAwait(false), k => (string)k!);
        var liveness = await LivenessAsync(ids).ConfigureAwait(false);
        long alive = 0;
        foreach (var (isAlive, _) in liveness) if (isAlive) alive++;
        return new QueueStatus(await length.ConfigureAwait(false), await tokens.ConfigureAwait(false), ids.Length, alive, await workers.ConfigureAwait(false),
            await scheduled.ConfigureAwait(false), await failed.ConfigureAwait(false), PauseState.Read((byte[]?)await paused.ConfigureAwait(false)));
    }

    /// <summary>Whether a worker's liveness key exists now.</summary>
    public Task<bool> IsWorkerAliveAsync(string workerId) => Db.KeyExistsAsync(workerId);

    /// <summary>The bytes a worker holds now, or null.</summary>
    public async Task<byte[]?> GetHeldAsync(string workerId) =>
        (byte[]?)await Db.HashGetAsync(_processing, workerId).ConfigureAwait(false);

    /// <summary>The bytes at a position of the task list now, or null.</summary>
    public async Task<byte[]?> GetQueuedAsync(long position) =>
        (byte[]?)await Db.ListGetByIndexAsync(_tasks, position).ConfigureAwait(false);

    /// <summary>The task at the head (the next to be taken) and the one at the tail (the newest); nulls when none waits.</summary>
    public async Task<(byte[]? Head, byte[]? Tail)> PeekEndsAsync()
    {
        var batch = Db.CreateBatch();
        var head = batch.ListGetByIndexAsync(_tasks, 0);
        var tail = batch.ListGetByIndexAsync(_tasks, -1);
        batch.Execute();
        return ((byte[]?)await head.ConfigureAwait(false), (byte[]?)await tail.ConfigureAwait(false));
    }

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

    /// <summary>
    /// Asks a worker of this implementation to stop after its current task; a worker of several queues is asked
    /// through each of them that lists it (its description names them).
    /// </summary>
    public async Task<AdminOutcome> RequestStopAsync(string workerId)
    {
        var keys = new List<RedisKey> { _workers, _control };
        var description = WorkerDescription.TryParse(await Db.HashGetAsync(_workers, workerId).ConfigureAwait(false));
        foreach (var name in description?.Queues ?? Array.Empty<string>())
        {
            if (name == Name || !QueueKeys.IsValidName(name)) continue;
            var other = new QueueKeys(name);
            // On a cluster, a queue in another slot cannot be written in the same script (nor served by the same worker).
            if (Connection.IsCluster && other.HashTag != Keys.HashTag) continue;
            keys.Add(other.Workers);
            keys.Add(other.Control);
        }
        return Outcome((string?)await Db.ScriptEvaluateAsync(LuaScripts.RequestStop, keys.ToArray(), new RedisValue[] { workerId }).ConfigureAwait(false));
    }

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
    /// <summary>The claim number of a claim stamp: how many tasks the worker had claimed with this one.</summary>
    internal static long? StampClaims(string stamp)
    {
        var colon = stamp.IndexOf(':');
        return colon > 0 && long.TryParse(stamp.Substring(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var claims) ? claims : null;
    }

    internal static DateTimeOffset? StampTime(string stamp)
    {
        var colon = stamp.IndexOf(':');
        // A stamp no worker could have written (out of range) gives no time, rather than failing the whole listing.
        return colon > 0 && long.TryParse(stamp.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            && ms <= WorkerDescription.MaxUnixMs
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
    }

    /// <summary>Whether any key of the queue exists.</summary>
    public async Task<bool> ExistsAsync() => await Db.KeyExistsAsync(_scriptKeys).ConfigureAwait(false) > 0;

    /// <summary>
    /// Deletes the queue's keys and its extension keys (uniqueness windows included), but not its pause (an operator's
    /// state, which emptying the queue should not lift) nor its recurring schedules; never a liveness key or any other key.
    /// </summary>
    public async Task ClearAsync()
    {
        await Db.KeyDeleteAsync(Array.FindAll(_scriptKeys, k => k != (RedisKey)Keys.Paused).Concat(new RedisKey[] { Keys.Unique }).ToArray()).ConfigureAwait(false);
        try
        {
            // Apart: an operator account from before the waking list may not touch it, and its DEL must not fail the one above.
            // A token left there would otherwise let the next claim behind a wait take a task enqueued after the clear
            // without that task's own token.
            await Db.KeyDeleteAsync(_waking).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOPERM", StringComparison.Ordinal))
        {
            // Such an account's workers have no claims behind their waits either, unless theirs were given the key.
        }
    }

    /// <summary>Pauses the queue; false when it was paused already (its reason and time are kept).</summary>
    public async Task<bool> PauseAsync(string reason) =>
        (long)await Db.ScriptEvaluateAsync(LuaScripts.Pause, new RedisKey[] { Keys.Paused }, new RedisValue[] { reason ?? "" }).ConfigureAwait(false) == 1;

    /// <summary>Resumes the queue; false when it was not paused.</summary>
    public Task<bool> ResumeAsync() => Db.KeyDeleteAsync(Keys.Paused);

    internal async Task<bool> RegisterAsync(string workerId, int ttlSeconds, WorkerDescription description) =>
        (long)await Db.ScriptEvaluateAsync(LuaScripts.Register, new RedisKey[] { workerId, _workers },
            new RedisValue[] { ttlSeconds, description.Serialize() }).ConfigureAwait(false) == 1;

    /// <summary>
    /// Refreshes a liveness key only if it still exists (EXPIRE), so that a lapse (a process paused past the TTL, a
    /// Redis outage) is noticed rather than silently papered over, as a plain SETEX would. False when it had lapsed:
    /// the worker is then registered again under the same id (a second round trip, only then).
    /// </summary>
    /// <summary>
    /// Refreshes a worker's liveness key, or registers it again when it had lapsed (Alive false); StopTracked names a
    /// tracked task the worker is asked to stop (Stop-Job).
    /// </summary>
    internal async Task<KeepAliveReply> KeepAliveAsync(string workerId, int ttlSeconds, WorkerDescription description, IReadOnlyList<DelayedQueue> workerQueues)
    {
        var keys = new RedisKey[2 + workerQueues.Count];
        keys[0] = workerId;
        keys[1] = Keys.Tracked;
        for (var i = 0; i < workerQueues.Count; i++) keys[2 + i] = workerQueues[i]._control;
        var reply = await Db.ScriptEvaluateAsync(LuaScripts.KeepAlive, keys, new RedisValue[] { ttlSeconds }).ConfigureAwait(false);
        if (reply.IsNull)
        {
            await RegisterAsync(workerId, ttlSeconds, description).ConfigureAwait(false);
            return new KeepAliveReply(false, null, false);
        }
        if (reply.Resp2Type != ResultType.Array) return new KeepAliveReply(true, null, false);
        var parts = (RedisResult[])reply!;
        var tracked = (string?)parts[0];
        return new KeepAliveReply(true, string.IsNullOrEmpty(tracked) ? null : tracked, (long)parts[1] == 1);
    }

    /// <summary>Whether the worker still holds the claim with this stamp (a sweep may have taken it during a lapse).</summary>
    internal async Task<bool> HoldsAsync(string workerId, string claimStamp) =>
        await Db.HashGetAsync(_inFlight, workerId).ConfigureAwait(false) == claimStamp;

    internal Task GoOfflineAsync(string workerId) =>
        Db.ScriptEvaluateAsync(LuaScripts.GoOffline, new RedisKey[] { workerId, _workers, _control });

    /// <summary>
    /// Waits for a token of any of <paramref name="queues"/> (one BLPOP on all their token lists, which Redis serves
    /// in the order given); the index of the queue whose token was taken, or -1 after the timeout. On the slot's
    /// <paramref name="direct"/> connection when it serves (its reply then wakes one thread, which claims at once), else
    /// on the <paramref name="spare"/> connection for blocking waits (opened when first needed).
    /// </summary>
    internal static async Task<int> WaitForTokenAsync(Func<Task<BlockingConnection>> spare, IReadOnlyList<DelayedQueue> queues, TimeSpan timeout, DirectConnection? direct = null)
    {
        var seconds = FormatSeconds(timeout);
        RedisResult reply;
        if (direct?.BlockingPopAsync(queues.Count == 1 ? queues[0]._tokenKeys : TokenKeys(queues), seconds, timeout) is { } directWait)
        {
            try
            {
                reply = await directWait.ConfigureAwait(false);
            }
            catch (DirectConnectionLostException)
            {
                // A token popped as it failed is lost with the reply, as on the spare connection: a sweep restores the count.
                return -1;
            }
        }
        else
        {
            var arguments = new object[queues.Count + 1];
            for (var i = 0; i < queues.Count; i++) arguments[i] = queues[i]._tokens;
            arguments[queues.Count] = seconds;
            var database = await (await spare().ConfigureAwait(false)).GetDatabaseAsync().ConfigureAwait(false);
            reply = await database.ExecuteAsync("BLPOP", arguments).ConfigureAwait(false);
        }
        if (reply.IsNull) return -1;
        var key = (string)((RedisResult[])reply!)[0]!;
        for (var i = 0; i < queues.Count; i++) if (queues[i].Keys.Tokens == key) return i;
        return -1;
    }

    /// <summary>
    /// An idle slot's wait for a token of this queue with its claim written behind it on the slot's direct connection
    /// (<see cref="ClaimMode.Waited"/>): the wait moves a token to <see cref="QueueKeys.Waking"/>, Redis runs the claim the
    /// moment the wait ends, and both replies come in one round trip. The claim takes a task only with a token moved
    /// there, so a wait that timed out takes none: a task whose token a Python or Go worker has just taken, and whose
    /// claim is on its way, stays for that worker (one taken from under it would leave a token without a task, which
    /// fails its next claim). Null while that connection rests after a failure: wait and claim through the multiplexer then.
    /// </summary>
    /// <exception cref="DirectConnectionLostException">The replies did not come (a task the claim may have taken is held
    /// under the worker id, for the next claim to hand back; a token the wait may have moved is left in the waking list,
    /// for <see cref="ReturnWakingToken"/>), or the
    /// server refused the wait (<see cref="DirectConnectionLostException.Refused"/>: e.g. an account without BRPOPLPUSH
    /// or the waking key), which moved nothing, though the claim behind it ran: its reply is lost too.</exception>
    internal Task<ClaimReply>? WaitThenClaimAsync(DirectConnection direct, string workerId, string claimStamp, TimeSpan timeout, long maxTaskBytes)
    {
        var arguments = new RedisValue[] { workerId, "waited", claimStamp, "", "release", maxTaskBytes };
        var pending = direct.BlockingMoveThenEvaluateAsync(_tokens, _waking, FormatSeconds(timeout), timeout, LuaScripts.FinishAndClaim, _waitedKeys, arguments);
        return pending is null ? null : ClaimAfterWaitAsync(pending);
    }

    private static async Task<ClaimReply> ClaimAfterWaitAsync(Task<RedisResult> pending) => ReadClaim(await pending.ConfigureAwait(false));

    /// <summary>
    /// After a wait whose claim may not have run: a token it moved to the waking list goes back to the tokens. Any token
    /// found there is one whose claim did not run, or one another slot's claim is about to take, which then finds none
    /// and that slot waits again: never a loss. Sent without waiting for its reply, once Redis answers again (the slot's
    /// next claim): with Redis out of reach it would wait in the client's backlog, where it would take the failure that
    /// the slot's claim is to report.
    /// </summary>
    internal void ReturnWakingToken()
    {
        try
        {
            Db.ListRightPopLeftPush(_waking, _tokens, CommandFlags.FireAndForget);
        }
        catch (RedisException)
        {
            // The multiplexer refused to queue it (no connection, no backlog): the claim that follows reports that.
        }
    }

    private static RedisKey[] TokenKeys(IReadOnlyList<DelayedQueue> queues)
    {
        var keys = new RedisKey[queues.Count];
        for (var i = 0; i < queues.Count; i++) keys[i] = queues[i]._tokens;
        return keys;
    }

    /// <summary>Lists a worker registered on another queue in this queue's workers hash too (a worker of several queues).</summary>
    internal Task ListWorkerAsync(string workerId, WorkerDescription description) => Db.HashSetAsync(_workers, workerId, description.Serialize());

    /// <summary>Puts back a token taken by a waiter that will not claim after all.</summary>
    internal Task ReturnTokenAsync() => Db.ListLeftPushAsync(_tokens, Token);

    /// <summary>Runs <see cref="LuaScripts.FinishAndClaim"/>, finishing a held task by releasing it or putting it back unchanged.</summary>
    internal Task<ClaimReply> FinishAndClaimAsync(string workerId, ClaimMode mode, string claimStamp, string? finishStamp, byte[]? requeue) =>
        FinishAndClaimAsync(workerId, mode, claimStamp, finishStamp is null ? null : requeue is null ? Finish.Release(finishStamp) : Finish.Requeue(finishStamp, requeue));

    /// <summary>
    /// Runs <see cref="LuaScripts.FinishAndClaim"/>: finishes the held task as <paramref name="finish"/> says, then
    /// answers the claimed task, nothing, a stop request, a missing liveness key, or a task over
    /// <paramref name="maxTaskBytes"/> that went to the failed store.
    /// </summary>
    /// <remarks>
    /// claimFrom, for a worker of several queues: the queues to claim from, in the order to try, this queue (the held
    /// task's, or the first) among them; null to claim from this queue alone, the only way to claim a token taken. replyLost: the
    /// slot's previous call failed, so it may have claimed a task whose reply never came: one held is handed back.
    /// </remarks>
    internal async Task<ClaimReply> FinishAndClaimAsync(string workerId, ClaimMode mode, string claimStamp, Finish? finish, long maxTaskBytes = int.MaxValue,
        IReadOnlyList<DelayedQueue>? claimFrom = null, bool replyLost = false, DirectConnection? direct = null)
    {
        var several = claimFrom is { Count: > 0 } && !(claimFrom.Count == 1 && ReferenceEquals(claimFrom[0], this)) ? ClaimKeys(claimFrom) : null;
        var modeText = mode switch
        {
            ClaimMode.TakeToken => replyLost ? "token?" : "token",
            ClaimMode.TokenTaken => replyLost ? "taken?" : "taken",
            ClaimMode.Waited when replyLost || several is not null => throw new ArgumentException("A claim behind a wait follows no lost reply and claims from one queue.", nameof(mode)),
            ClaimMode.Waited => "waited",
            _ => "none",
        };
        if (several is not null && mode != ClaimMode.None)
        {
            if (mode == ClaimMode.TokenTaken) throw new ArgumentException("A token taken is claimed from its own queue, not from several.", nameof(mode));
            modeText = replyLost ? several.RecheckMode : several.Mode;
        }
        var how = finish?.How ?? "release";
        var arguments = how == "release" && finish?.TrackingId is null
            ? new RedisValue[] { workerId, modeText, claimStamp, finish?.Stamp ?? "", how, maxTaskBytes }
            : new RedisValue[]
            {
                workerId, modeText, claimStamp, finish!.Stamp, how, maxTaskBytes, Host, FailedTaskLimit, _failedRetentionMs,
                finish.Bytes ?? Array.Empty<byte>(), finish.DelayMilliseconds, how == "schedule" ? finish.TrackingId ?? ScheduledEntry.NewId() : "",
                finish.Counter, finish.CounterValue, how == "fail" ? finish.Reason.ToString() : finish.StoppedOnRequest ? "Stopped" : "", finish.Error,
                finish.TrackingId ?? "", finish.Output, finish.Attempt, (long)finish.Duration.TotalMilliseconds,
            };
        var keys = several?.Keys ?? _scriptKeys;
        RedisResult reply;
        if (direct?.EvaluateAsync(LuaScripts.FinishAndClaim, keys, arguments) is not { } directCall)
        {
            reply = await Db.ScriptEvaluateAsync(LuaScripts.FinishAndClaim, keys, arguments).ConfigureAwait(false);
        }
        else
        {
            try
            {
                reply = await directCall.ConfigureAwait(false);
            }
            catch (DirectConnectionLostException)
            {
                // The same call through the multiplexer, as after a lost reply: the script finishes a claim only while the
                // worker holds it, and hands back a task this call may have claimed.
                return await FinishAndClaimAsync(workerId, mode, claimStamp, finish, maxTaskBytes, claimFrom, replyLost: true).ConfigureAwait(false);
            }
        }
        var claimed = ReadClaim(reply);
        // A retry's back-off (the first under a second) or a return: this process's promoters promote it when due.
        if (finish is { How: "schedule" }) Connection.ScheduleNotices.Scheduled(Name, TimeSpan.FromMilliseconds(finish.DelayMilliseconds));
        return claimed;
    }

    /// <summary>
    /// Tells this process's promoters of this queue how soon the soonest of those scheduled falls due
    /// (<see cref="Scheduling.ScheduleNotices"/>); tasks to run now are no concern of theirs.
    /// </summary>
    private void NoticeScheduled<T>(IReadOnlyList<T> tasks, Func<T, TimeSpan?> delay, Func<T, DateTimeOffset?> at)
    {
        TimeSpan? soonest = null;
        DateTimeOffset? now = null;
        foreach (var task in tasks)
        {
            var dueIn = delay(task) ?? (at(task) is { } time ? time - (now ??= DateTimeOffset.UtcNow) : null);
            if (dueIn < soonest || soonest is null) soonest = dueIn;
        }
        if (soonest is { } due) Connection.ScheduleNotices.Scheduled(Name, due);
    }

    /// <summary>The claim script's reply (<see cref="LuaScripts.FinishAndClaim"/>).</summary>
    private static ClaimReply ReadClaim(RedisResult reply)
    {
        if (reply.IsNull) return ClaimReply.Nothing;
        if (reply.Resp2Type != ResultType.Array) return ClaimReply.Of((byte[])reply!);
        var parts = (RedisResult[])reply!;
        return (string?)parts[0] switch
        {
            "task" => ClaimReply.Of((byte[])parts[1]!, (long)parts[2], (long)parts[3], parts.Length > 4 && (long)parts[4] > 0 ? (int)(long)parts[4] - 1 : 0,
                parts.Length > 5 ? (string?)parts[5] : null, parts.Length > 6 ? (long)parts[6] : null),
            "oversize" => ClaimReply.Oversize((long)parts[1], parts.Length > 2 ? (int)(long)parts[2] - 1 : 0),
            "unregistered" => ClaimReply.NotRegistered,
            "paused" => ClaimReply.PausedQueue,
            "paused-some" => ClaimReply.NothingWithPaused(parts.Skip(1).Select(p => (int)(long)p - 1).ToArray()),
            _ => ClaimReply.Stop,
        };
    }

    /// <summary>
    /// This queue's keys followed by the claim keys of the other queues of <paramref name="claimFrom"/> and the paused
    /// keys of all (LuaScripts.FinishAndClaim), and the mode naming this queue's place among them; the last such list
    /// is kept, as a worker in strict order asks for the same one again and again.
    /// </summary>
    private ClaimKeyList ClaimKeys(IReadOnlyList<DelayedQueue> claimFrom)
    {
        if (Volatile.Read(ref _lastClaim) is { } last && ReferenceEquals(last.From, claimFrom)) return last;
        var place = -1;
        for (var i = 0; i < claimFrom.Count; i++) if (ReferenceEquals(claimFrom[i], this)) place = i;
        if (place < 0) throw new ArgumentException($"The queues to claim from do not include '{Name}', the queue of the task held.", nameof(claimFrom));
        var keys = new RedisKey[_scriptKeys.Length + ClaimKeyCount * (claimFrom.Count - 1) + claimFrom.Count];
        _scriptKeys.CopyTo(keys, 0);
        var at = _scriptKeys.Length;
        foreach (var other in claimFrom)
        {
            if (ReferenceEquals(other, this)) continue;
            other._claimKeys.CopyTo(keys, at);
            at += ClaimKeyCount;
        }
        foreach (var queue in claimFrom) keys[at++] = queue.Keys.Paused;
        var list = new ClaimKeyList(claimFrom, keys, place.ToString(CultureInfo.InvariantCulture) + ":token");
        Volatile.Write(ref _lastClaim, list);
        return list;
    }

    private sealed class ClaimKeyList
    {
        public ClaimKeyList(IReadOnlyList<DelayedQueue> from, RedisKey[] keys, string mode)
        {
            From = from;
            Keys = keys;
            Mode = mode;
            RecheckMode = mode + "?";
        }

        public IReadOnlyList<DelayedQueue> From { get; }

        public RedisKey[] Keys { get; }

        /// <summary>The claim's mode with this queue's place in the order (LuaScripts.FinishAndClaim).</summary>
        public string Mode { get; }

        /// <summary>The same after a call whose reply was lost: a task already claimed is handed back.</summary>
        public string RecheckMode { get; }
    }

    private ClaimKeyList? _lastClaim;

    /// <summary>Moves due tasks from the schedule to the task list with a token each; how many moved (at most one batch).</summary>
    public async Task<long> PromoteAsync() => (await PromoteAndFindTicksAsync().ConfigureAwait(false)).Moved;

    /// <summary>Promotes as <see cref="PromoteAsync"/> does, and finds the due ticks of recurring schedules in the same round trip.</summary>
    public async Task<Scheduling.Promotion> PromoteAndFindTicksAsync()
    {
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(LuaScripts.Promote, _promoteKeys, new RedisValue[] { PromoteBatch, Scheduling.Promotion.TickBatch }).ConfigureAwait(false))!;
        var ticks = new List<Scheduling.DueTick>((reply.Length - 3) / 3);
        for (var i = 3; i + 2 < reply.Length; i += 3)
            ticks.Add(new Scheduling.DueTick((string)reply[i]!, (long)double.Parse((string)reply[i + 1]!, CultureInfo.InvariantCulture), (byte[])reply[i + 2]!));
        return new Scheduling.Promotion((long)reply[0], (long)reply[1], ticks, (long)reply[2] is var soonest and >= 0 ? soonest : null);
    }

    /// <summary>A delay as the scripts take it, whole milliseconds rounded up: never shorter than asked.</summary>
    internal static long DelayMilliseconds(TimeSpan delay) => (long)Math.Ceiling(delay.TotalMilliseconds);

    /// <summary>
    /// Schedules tasks, atomically, in one round trip: each due after its delay by the Redis server's clock, or at its
    /// time. Equal bytes scheduled twice are two entries. Returns the entries, in order: their ids and due times, with
    /// which <see cref="RemoveScheduledAsync"/> cancels one.
    /// </summary>
    public async Task<IReadOnlyList<ScheduledEntry>> ScheduleAsync(IReadOnlyList<(byte[] Task, TimeSpan? Delay, DateTimeOffset? At)> tasks)
    {
        if (tasks.Count == 0) return Array.Empty<ScheduledEntry>();
        var arguments = new RedisValue[tasks.Count * 3];
        var ids = new string[tasks.Count];
        for (var i = 0; i < tasks.Count; i++)
        {
            var (task, delay, at) = tasks[i];
            if ((delay is null) == (at is null)) throw new ArgumentException("A scheduled task needs a delay or a time, not both.", nameof(tasks));
            if (delay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(tasks), delay, "A delay cannot be negative.");
            arguments[i * 3] = delay is null ? "at" : "in";
            arguments[i * 3 + 1] = delay is { } d ? DelayMilliseconds(d) : at!.Value.ToUnixTimeMilliseconds();
            ids[i] = ScheduledEntry.NewId();
            arguments[i * 3 + 2] = new ScheduledEntry(ids[i], default, task ?? throw new ArgumentException("A task to schedule is null.", nameof(tasks))).Member();
        }
        var dues = (RedisResult[])(await Db.ScriptEvaluateAsync(LuaScripts.Schedule, _scriptKeys, arguments).ConfigureAwait(false))!;
        DelayedMetrics.TasksEnqueued(Name, tasks.Count);
        NoticeScheduled(tasks, t => t.Delay, t => t.At);
        var entries = new ScheduledEntry[tasks.Count];
        for (var i = 0; i < tasks.Count; i++)
            entries[i] = new ScheduledEntry(ids[i], DateTimeOffset.FromUnixTimeMilliseconds((long)dues[i]), tasks[i].Task);
        return entries;
    }

    /// <summary>
    /// Enqueues (no delay and no time) or schedules tasks that are unique within a window: one whose key was enqueued
    /// less than its window ago is skipped, atomically, however many clients enqueue at once. The key defaults to the
    /// task's bytes. Returns, per task, whether it was enqueued.
    /// </summary>
    public async Task<bool[]> EnqueueUniqueAsync(IReadOnlyList<UniqueTask> tasks) =>
        (await EnqueueUniqueWithOutcomeAsync(tasks).ConfigureAwait(false)).Select(o => o.Enqueued).ToArray();

    /// <summary>
    /// As <see cref="EnqueueUniqueAsync"/>, saying of each skipped task which tracked task holds its window, when one
    /// does: a caller that tracks its tasks then follows that one instead.
    /// </summary>
    public async Task<IReadOnlyList<UniqueOutcome>> EnqueueUniqueWithOutcomeAsync(IReadOnlyList<UniqueTask> tasks)
    {
        if (tasks.Count == 0) return Array.Empty<UniqueOutcome>();
        var arguments = new RedisValue[tasks.Count * 7];
        var entryIds = new string?[tasks.Count];
        for (var i = 0; i < tasks.Count; i++)
        {
            var task = tasks[i];
            if (task.Window <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(tasks), task.Window, "A uniqueness window must be positive.");
            if (task.Delay is not null || task.At is not null) entryIds[i] = task.TrackingId ?? ScheduledEntry.NewId();
            if (task.Delay is not null && task.At is not null) throw new ArgumentException("A task runs after a delay or at a time, not both.", nameof(tasks));
            arguments[i * 7] = task.Key is null ? RedisValue.EmptyString : "k:" + task.Key;
            arguments[i * 7 + 1] = (long)Math.Ceiling(task.Window.TotalMilliseconds);
            arguments[i * 7 + 2] = task.Delay is not null ? "in" : task.At is not null ? "at" : "now";
            arguments[i * 7 + 3] = task.Delay is { } d ? DelayMilliseconds(d) : task.At is { } at ? at.ToUnixTimeMilliseconds() : 0;
            arguments[i * 7 + 4] = entryIds[i] is { } entryId ? new ScheduledEntry(entryId, default, task.Bytes).Member() : task.Bytes;
            arguments[i * 7 + 5] = task.TrackingId ?? "";
            arguments[i * 7 + 6] = task.KeepFor is { } keep ? (long)Math.Ceiling(keep.TotalMilliseconds) : 0;
        }
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(LuaScripts.EnqueueUnique, _uniqueKeys, arguments).ConfigureAwait(false))!;
        var outcomes = new UniqueOutcome[reply.Length];
        for (var i = 0; i < reply.Length; i++)
        {
            if (reply[i].Resp2Type == ResultType.BulkString)
            {
                outcomes[i] = new UniqueOutcome(false, (string?)reply[i]);
                continue;
            }
            // 1: enqueued to run now; a due time (unix ms): scheduled; 0: skipped.
            var answer = (long)reply[i];
            outcomes[i] = answer > 1
                ? new UniqueOutcome(true, null, new ScheduledEntry(entryIds[i]!, DateTimeOffset.FromUnixTimeMilliseconds(answer), tasks[i].Bytes))
                : new UniqueOutcome(answer == 1, null);
        }
        DelayedMetrics.TasksEnqueued(Name, outcomes.Count(o => o.Enqueued));
        NoticeScheduled(tasks.Where((_, i) => outcomes[i].Enqueued).ToList(), t => t.Delay, t => t.At);
        return outcomes;
    }

    /// <summary>The scheduled tasks, earliest first, from <paramref name="skip"/>: one range read, so those of one instant.</summary>
    public async Task<IReadOnlyList<ScheduledEntry>> GetScheduledAsync(long skip = 0, long count = long.MaxValue)
    {
        if (count <= 0) return Array.Empty<ScheduledEntry>();
        var stop = count > long.MaxValue - skip ? -1 : skip + count - 1;
        var entries = await Db.SortedSetRangeByRankWithScoresAsync(Keys.Scheduled, skip, stop).ConfigureAwait(false);
        var result = new List<ScheduledEntry>(entries.Length);
        foreach (var entry in entries)
        {
            var member = (byte[])entry.Element!;
            if (member.Length >= ScheduledEntry.IdLength) result.Add(ScheduledEntry.FromMember(member, entry.Score));
        }
        return result;
    }

    /// <summary>Cancels a scheduled task: the entry with this id and these exact bytes.</summary>
    public async Task<AdminOutcome> RemoveScheduledAsync(string entryId, byte[] task) =>
        entryId.Length == ScheduledEntry.IdLength && await Db.SortedSetRemoveAsync(Keys.Scheduled, new ScheduledEntry(entryId, default, task).Member()).ConfigureAwait(false)
            ? AdminOutcome.Done
            : AdminOutcome.NotFound;

    /// <summary>
    /// Enqueues or schedules tasks tracked by their ids (<see cref="TrackedEnqueue.Id"/>), atomically, in one round trip:
    /// their records follow them through claims, retries, sweeps and promotion until they end.
    /// </summary>
    public async Task EnqueueTrackedAsync(IReadOnlyList<TrackedEnqueue> tasks)
    {
        if (tasks.Count == 0) return;
        var arguments = new RedisValue[tasks.Count * 5];
        for (var i = 0; i < tasks.Count; i++)
        {
            var task = tasks[i];
            arguments[i * 5] = task.Id;
            arguments[i * 5 + 1] = (long)Math.Ceiling(task.KeepFor.TotalMilliseconds);
            arguments[i * 5 + 2] = task.Delay is not null ? "in" : task.At is not null ? "at" : "now";
            arguments[i * 5 + 3] = task.Delay is { } delay ? DelayMilliseconds(delay) : task.At?.ToUnixTimeMilliseconds() ?? 0;
            arguments[i * 5 + 4] = task.Task;
        }
        await Db.ScriptEvaluateAsync(LuaScripts.EnqueueTracked, _trackingKeys, arguments).ConfigureAwait(false);
        DelayedMetrics.TasksEnqueued(Name, tasks.Count);
        NoticeScheduled(tasks, t => t.Delay, t => t.At);
    }

    /// <summary>
    /// The records of tracked tasks, read at one instant, in the order of <paramref name="ids"/>; with
    /// <paramref name="withData"/> also their bytes and output (which can be large: ask for it once a task has ended).
    /// </summary>
    public async Task<IReadOnlyList<TrackedTask>> GetTrackedAsync(IReadOnlyList<string> ids, bool withData = false)
    {
        if (ids.Count == 0) return Array.Empty<TrackedTask>();
        var per = withData ? 3 : 1;
        var fields = new RedisValue[ids.Count * per];
        for (var i = 0; i < ids.Count; i++)
        {
            fields[i * per] = "s" + ids[i];
            if (!withData) continue;
            fields[i * per + 1] = "b" + ids[i];
            fields[i * per + 2] = "o" + ids[i];
        }
        var values = await Db.HashGetAsync(Keys.Tracked, fields).ConfigureAwait(false);
        var result = new TrackedTask[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            var state = values[i * per];
            result[i] = TrackedTask.Read(ids[i], state.IsNull ? null : (byte[])state!,
                withData && !values[i * per + 1].IsNull ? (byte[])values[i * per + 1]! : null,
                withData && !values[i * per + 2].IsNull ? (byte[])values[i * per + 2]! : null);
        }
        return result;
    }

    /// <summary>
    /// Of these tracked tasks, the queued ones that a worker keeping no records took (<see cref="LuaScripts.ReconcileTracked"/>,
    /// a scan of the list per distinct bytes): their records now say so. The ids are checked in order while the scans
    /// stay within <paramref name="budget"/> list entries (the first always is); <see cref="TrackedReconciler"/> takes turns.
    /// </summary>
    /// <returns>How many of the ids were checked, and the ids found taken.</returns>
    public async Task<(int Checked, IReadOnlyList<string> Taken)> ReconcileTrackedAsync(IReadOnlyList<string> ids, long budget = long.MaxValue)
    {
        if (ids.Count == 0) return (0, Array.Empty<string>());
        var arguments = new RedisValue[ids.Count + 1];
        arguments[0] = budget;
        for (var i = 0; i < ids.Count; i++) arguments[i + 1] = ids[i];
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(LuaScripts.ReconcileTracked, _trackingKeys, arguments).ConfigureAwait(false))!;
        var taken = new string[reply.Length - 1];
        for (var i = 1; i < reply.Length; i++) taken[i - 1] = (string)reply[i]!;
        return ((int)reply[0], taken);
    }

    /// <summary>Stops a tracked task that has not started (<see cref="LuaScripts.CancelTracked"/>).</summary>
    public async Task<CancelOutcome> CancelTrackedAsync(string id, string why) =>
        (string?)await Db.ScriptEvaluateAsync(LuaScripts.CancelTracked, _trackingKeys, new RedisValue[] { id, why }).ConfigureAwait(false) switch
        {
            "stopped" => CancelOutcome.Stopped,
            "running" => CancelOutcome.Running,
            "ended" => CancelOutcome.Ended,
            "gone" => CancelOutcome.TakenUntracked,
            _ => CancelOutcome.Unknown,
        };

    /// <summary>
    /// How many tasks in the failed store failed after <paramref name="afterMs"/> (unix ms of the Redis server's clock, as
    /// they are stamped), and the failure time of the newest (<paramref name="afterMs"/> when there is none): passed
    /// back in, it counts the failures from one look to the next, whatever the clock of the one looking.
    /// </summary>
    public async Task<(long Count, long NewestMs)> CountFailedAfterAsync(long afterMs)
    {
        var batch = Db.CreateBatch();
        var count = batch.SortedSetLengthAsync(Keys.Failed, afterMs, double.PositiveInfinity, Exclude.Start);
        var newest = batch.SortedSetRangeByRankWithScoresAsync(Keys.Failed, 0, 0, Order.Descending);
        batch.Execute();
        var last = await newest.ConfigureAwait(false);
        return (await count.ConfigureAwait(false), last.Length == 0 ? afterMs : Math.Max(afterMs, (long)last[0].Score));
    }

    /// <summary>The newest <paramref name="count"/> tasks of the failed store, newest first (two round trips; one that failed in between is left out).</summary>
    public async Task<IReadOnlyList<FailedEntry>> GetNewestFailedAsync(int count)
    {
        if (count <= 0) return Array.Empty<FailedEntry>();
        var ids = await Db.SortedSetRangeByRankAsync(Keys.Failed, 0, count - 1, Order.Descending).ConfigureAwait(false);
        if (ids.Length == 0) return Array.Empty<FailedEntry>();
        var records = await Db.HashGetAsync(Keys.FailedData, ids).ConfigureAwait(false);
        var result = new List<FailedEntry>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
            if (!records[i].IsNull) result.Add(FailedEntry.Read((string)ids[i]!, (byte[])records[i]!));
        return result;
    }

    /// <summary>One task of the failed store by its id; null when it is not there (restored, removed or trimmed).</summary>
    public async Task<FailedEntry?> GetFailedAsync(string id)
    {
        var record = (byte[]?)await Db.HashGetAsync(Keys.FailedData, id).ConfigureAwait(false);
        return record is null ? null : FailedEntry.Read(id, record);
    }

    /// <summary>The failed store, newest first, read at one instant (it is bounded by <see cref="FailedTaskLimit"/>).</summary>
    public async Task<IReadOnlyList<FailedEntry>> GetFailedAsync()
    {
        var (ids, records) = await TransactAsync(async transaction =>
        {
            var idsTask = transaction.SortedSetRangeByRankAsync(Keys.Failed, 0, -1, Order.Descending);
            var recordsTask = transaction.HashGetAllAsync(Keys.FailedData);
            return (await idsTask.ConfigureAwait(false), ToDictionary(await recordsTask.ConfigureAwait(false)));
        }).ConfigureAwait(false);
        var result = new List<FailedEntry>();
        foreach (var id in ids)
        {
            if (records.TryGetValue((string)id!, out var record)) result.Add(FailedEntry.Read((string)id!, (byte[])record!));
        }
        return result;
    }

    /// <summary>
    /// Puts failed tasks back at the tail with a token each, in one round trip; per task, the place from the head it was
    /// put at (0 runs next), or null when it had left the store already (restored, removed or trimmed).
    /// </summary>
    public async Task<long?[]> RestoreFailedAsync(IReadOnlyList<(string Id, byte[] Task)> tasks)
    {
        var arguments = new RedisValue[tasks.Count * 2];
        for (var i = 0; i < tasks.Count; i++)
        {
            arguments[i * 2] = tasks[i].Id;
            arguments[i * 2 + 1] = tasks[i].Task;
        }
        var reply = await Db.ScriptEvaluateAsync(LuaScripts.RestoreFailed, _scriptKeys, arguments).ConfigureAwait(false);
        return Array.ConvertAll((RedisResult[])reply!, length => (long)length is var n and > 0 ? n - 1 : (long?)null);
    }

    /// <summary>Deletes failed tasks by id, in one round trip; per id, whether it was still there.</summary>
    public async Task<bool[]> RemoveFailedAsync(IReadOnlyList<string> ids) =>
        Flags(await Db.ScriptEvaluateAsync(LuaScripts.RemoveFailed, _scriptKeys, Array.ConvertAll(ids.ToArray(), id => (RedisValue)id)).ConfigureAwait(false));

    /// <summary>Empties the failed store; how many tasks it held.</summary>
    public async Task<long> ClearFailedAsync()
    {
        return await TransactAsync(async transaction =>
        {
            var count = transaction.SortedSetLengthAsync(Keys.Failed);
            var deleted = transaction.KeyDeleteAsync(new RedisKey[] { Keys.Failed, Keys.FailedData });
            await deleted.ConfigureAwait(false);
            return await count.ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private static bool[] Flags(RedisResult reply)
    {
        if (reply.IsNull) return Array.Empty<bool>();
        return Array.ConvertAll((RedisResult[])reply!, r => (long)r == 1);
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
