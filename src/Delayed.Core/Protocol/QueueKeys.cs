using System;

namespace Delayed.Core.Protocol;

/// <summary>The Redis keys of one queue (PROTOCOL.md 1.1 and 8).</summary>
public sealed class QueueKeys
{
    /// <summary>
    /// The suffixes that make a queue's other keys from its name: the protocol's, then this implementation's
    /// extension keys (PROTOCOL.md 8). A queue name that ends in one of them would share keys with another queue.
    /// </summary>
    public static readonly string[] Suffixes = { "_noti", "_processing", "_inflight", "_workers", "_control" };

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
    /// task it holds. It makes release exact (a worker never releases a task it did not claim) and tells
    /// when a task started. Python and Go workers never read it; sweeps remove entries of gone workers.
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

    /// <summary>The Redis Cluster hash tag of the name, e.g. "{jobs}", or "" when it has none.</summary>
    public string HashTag { get; }

    /// <summary>
    /// The protocol's own keys and this implementation's extension keys, in the order of the queue scripts'
    /// KEYS (LuaScripts): tasks, tokens, processing, inflight, workers, control.
    /// </summary>
    public string[] All => new[] { Tasks, Tokens, Processing, InFlight, Workers, Control };

    /// <summary>Refuses a name that is empty, blank, or ends like another queue's key.</summary>
    public static void CheckName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("A queue needs a name that is not empty or blank, e.g. 'jobs'.", nameof(name));
        foreach (var suffix in Suffixes)
        {
            if (name!.EndsWith(suffix, StringComparison.Ordinal))
                throw new ArgumentException(
                    $"The queue name '{name}' ends in '{suffix}', the suffix of a key of queue '{name.Substring(0, name.Length - suffix.Length)}': " +
                    $"the two queues would share keys and lose tasks. Choose a name that does not end in {string.Join(", ", Suffixes)}.", nameof(name));
        }
    }

    private static string FindHashTag(string name)
    {
        var open = name.IndexOf('{');
        if (open < 0) return "";
        var close = name.IndexOf('}', open + 1);
        return close > open + 1 ? name.Substring(open, close - open + 1) : "";
    }
}
