using System;

namespace Delayed.Core.Protocol;

/// <summary>The Redis keys of one queue (docs/protocol.md, Keys of a queue).</summary>
public sealed class QueueKeys
{
    /// <summary>
    /// The suffixes that make a queue's other keys from its name: the protocol's, then this implementation's
    /// extension keys (docs/protocol.md, Keys of a queue). A queue name that ends in one of them would share keys with another queue.
    /// </summary>
    public static readonly string[] Suffixes = { "_noti", "_processing", "_inflight", "_workers", "_control", "_scheduled", "_failed", "_failed_data", "_counters", "_recurring", "_recurring_due", "_recurring_runs", "_paused", "_unique", "_tracked", "_tracked_ended", "_waking" };

    public QueueKeys(string name)
    {
        CheckName(name);
        Name = name;
        Tasks = name;
        Tokens = name + "_noti";
        Processing = name + "_processing";
        InFlight = name + "_inflight";
        Workers = name + "_workers";
        Control = name + "_control";
        Scheduled = name + "_scheduled";
        Failed = name + "_failed";
        FailedData = name + "_failed_data";
        Counters = name + "_counters";
        Recurring = name + "_recurring";
        RecurringDue = name + "_recurring_due";
        RecurringRuns = name + "_recurring_runs";
        Paused = name + "_paused";
        Unique = name + "_unique";
        Tracked = name + "_tracked";
        TrackedEnded = name + "_tracked_ended";
        Waking = name + "_waking";
        HashTag = FindHashTag(name);
    }

    public string Name { get; }

    /// <summary>List of serialized tasks waiting to run.</summary>
    public string Tasks { get; }

    /// <summary>List of notification tokens, one "1" per waiting task.</summary>
    public string Tokens { get; }

    /// <summary>Hash of in-flight tasks: worker id to the exact bytes it popped.</summary>
    public string Processing { get; }

    /// <summary>
    /// Extension hash of this implementation: worker id to the claim stamp "&lt;claim number&gt;:&lt;unix ms&gt;" of the
    /// task it holds, the number counting the tasks that worker id claimed, this one included. It makes release exact
    /// (a worker never releases a task it did not claim), tells when a task started, and by the numbers' growth how
    /// many tasks the workers start (Watch-DelayedQueue). Python and Go workers never read it; sweeps remove entries of gone workers.
    /// </summary>
    public string InFlight { get; }

    /// <summary>
    /// Extension hash: worker id to a MessagePack map describing that worker of this implementation (host,
    /// process id, start time, keep-alive TTL). Written by the registration script, removed when the worker
    /// goes offline, and removed by a sweep once the worker's liveness key is gone.
    /// </summary>
    public string Workers { get; }

    /// <summary>
    /// Extension hash: worker id to "stop" for workers asked to stop (Stop-DelayedWorker). Read by the claim
    /// script, removed when the worker goes offline, and by a sweep once the worker's liveness key is gone.
    /// </summary>
    public string Control { get; }

    /// <summary>
    /// Extension sorted set: tasks that run later. Score: the due time (unix ms, the Redis server's clock); member: a
    /// 16-character id followed by the task's exact bytes, so that equal bytes scheduled twice are two entries. Due
    /// entries are moved to the task list with a token by this implementation's workers and sweepers; an entry lives
    /// until then, or until it is removed. Python and Go workers never see it.
    /// </summary>
    public string Scheduled { get; }

    /// <summary>
    /// Extension sorted set: the ids of failed tasks by the time they failed (unix ms). Bounded by count and age,
    /// trimmed, oldest first, in the same script that adds to it.
    /// </summary>
    public string Failed { get; }

    /// <summary>
    /// Extension hash: failed-task id to its record, a MessagePack array [failed at (unix ms), reason, error, worker
    /// id, host, attempts, exact task bytes], and for a tracked task its id as an eighth element. Entries live exactly as
    /// long as their id in <see cref="Failed"/>.
    /// </summary>
    public string FailedData { get; }

    /// <summary>
    /// Extension hash: per-task counters keyed by a letter and the SHA-1 of the task's bytes: 'a' attempts that
    /// failed, 'n' returns for want of a handler, 'l' recoveries from dead workers. An entry goes when its task
    /// finishes; the whole key expires 30 days after its first write (not its last), so entries no finish of ours deletes
    /// (tasks that Python or Go workers ended, removed tasks) go within 30 days even while counters are written daily.
    /// </summary>
    public string Counters { get; }

    /// <summary>
    /// Extension hash: recurring schedule name to its definition, a MessagePack array [format 1, cron expression, time
    /// zone id, exact task bytes, misfire policy (0 RunOnce, 1 Skip), suspended], for a unique schedule followed by
    /// [uniqueness window in ms, key or nil for the task's bytes].
    /// </summary>
    public string Recurring { get; }

    /// <summary>
    /// Extension sorted set: recurring schedule name by its next tick (unix ms). A suspended schedule is not in it.
    /// Firing a tick compares this score and moves it on in one script, so each tick enqueues once however many
    /// workers and sweepers race for it.
    /// </summary>
    public string RecurringDue { get; }

    /// <summary>
    /// Extension hash: recurring schedule name to what its last tick did, a MessagePack array [fired at (unix ms),
    /// tick (unix ms), outcome, ticks fired so far].
    /// </summary>
    public string RecurringRuns { get; }

    /// <summary>
    /// Extension string, present while the queue is paused (Suspend-DelayedQueue): a MessagePack array [since (unix ms),
    /// reason]. While it exists, this implementation's claim script hands out no new task, and promotion moves no
    /// scheduled task and fires no recurring run. Python and Go workers never read it.
    /// </summary>
    public string Paused { get; }

    /// <summary>
    /// Extension sorted set: the uniqueness keys of tasks enqueued with a window (Add-DelayedTask -UniqueFor), by the
    /// end of their window (unix ms). A member is 'k:' and the key given, or 'b:' and the SHA-1 of the task's bytes.
    /// Ended windows are removed by the next unique enqueue; the key expires with its longest window.
    /// </summary>
    public string Unique { get; }

    /// <summary>
    /// Extension hash of tracked tasks (Add-DelayedTask -AsJob), by field prefix: 's' + task id its state, a MessagePack
    /// array (['q'] queued, ['d', due ms] scheduled, ['r', worker id, claim stamp] running, ['c', ended ms, attempt,
    /// duration ms, worker id] completed, ['f', ended ms, attempt, reason, error, worker id] failed, ['x', ended ms, why[, attempt, duration ms, worker id when it ran]] stopped, ['g', ended ms] taken by a worker that keeps no records);
    /// 'b' + id its current bytes; 'k' + id how long to keep it after it ends (ms); 'o' + id what its handler gave back
    /// (written by the host that ran it, bounded); the line of each distinct task's bytes, the ids of the tracked tasks
    /// with those bytes waiting in the list, oldest first (the wire format has no id: a claim takes the first): 'w' + d
    /// "head tail count" (d the SHA-1 of the bytes), 'q' + d + ':' + index "id since" (the server's ms when it began to wait), 'i' + id its index; 'r' + worker id the id of the tracked task that worker runs; 'c' + worker id the id of the tracked task
    /// that worker is asked to stop (Stop-Job), read with its keep-alive; 'u' + a uniqueness member the id of the
    /// tracked task that holds its window, 'v' + id that member; 'z' where the sweeps' look through the lines for tasks
    /// taken untracked stands ("cursor lines-done", while a round is under way). Written only for tracked tasks, in the
    /// scripts that already move them; the key does not exist while no task is tracked.
    /// </summary>
    public string Tracked { get; }

    /// <summary>
    /// Extension sorted set: ids of tracked tasks that ended, by the time their record is to be dropped (unix ms).
    /// Records past it are removed, with their fields in <see cref="Tracked"/>, when another tracked task ends and at
    /// each sweep.
    /// </summary>
    public string TrackedEnded { get; }

    /// <summary>
    /// Extension list: a token on its way from <see cref="Tokens"/> to the claim of one of this implementation's idle
    /// slots, which moves it here with BRPOPLPUSH and writes its claim right behind that wait, so that the claim (which
    /// takes the token from here) knows whether the wait took one or timed out. Redis runs that claim as soon as it has
    /// served the wait, so a token stays here only if the claim never ran (its connection lost just then); the slot then
    /// moves it back. Python and Go workers never read it; empty, it does not exist.
    /// </summary>
    public string Waking { get; }

    /// <summary>The Redis Cluster hash tag of the name, e.g. "{jobs}", or "" when it has none.</summary>
    public string HashTag { get; }

    /// <summary>
    /// The protocol's own keys and this implementation's extension keys, in the order of the queue scripts'
    /// KEYS (LuaScripts): tasks, tokens, processing, inflight, workers, control, scheduled, failed, failed data, counters,
    /// paused, tracked, tracked ended.
    /// </summary>
    public string[] All => new[] { Tasks, Tokens, Processing, InFlight, Workers, Control, Scheduled, Failed, FailedData, Counters, Paused, Tracked, TrackedEnded };

    /// <summary>Refuses a name that is empty, blank, or ends like another queue's key.</summary>
    public static void CheckName(string? name)
    {
        if (ProblemWith(name) is { } problem) throw new ArgumentException(problem, nameof(name));
    }

    /// <summary>Whether <see cref="CheckName"/> accepts the name (a name read from Redis, which a caller skips if not).</summary>
    public static bool IsValidName(string? name) => ProblemWith(name) is null;

    private static string? ProblemWith(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return "A queue needs a name that is not empty or blank, e.g. 'jobs'.";
        foreach (var suffix in Suffixes)
        {
            if (name!.EndsWith(suffix, StringComparison.Ordinal))
                return $"The queue name '{name}' ends in '{suffix}', the suffix of a key of queue '{name.Substring(0, name.Length - suffix.Length)}': " +
                    $"the two queues would share keys and lose tasks. Choose a name that does not end in {string.Join(", ", Suffixes)}.";
        }
        return null;
    }

    private static string FindHashTag(string name)
    {
        var open = name.IndexOf('{');
        if (open < 0) return "";
        var close = name.IndexOf('}', open + 1);
        return close > open + 1 ? name.Substring(open, close - open + 1) : "";
    }
}
