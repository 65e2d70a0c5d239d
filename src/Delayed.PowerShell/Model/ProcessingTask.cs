using System;
using System.Collections.Specialized;

namespace Delayed;

/// <summary>A task a worker holds right now, as Get-DelayedProcessing shows it.</summary>
public sealed class ProcessingTask
{
    internal ProcessingTask(Queue queue, string workerId, bool workerAlive, TimeSpan? timeToLive, DateTime? startedAt,
        string? name, TaskFormat? format, object?[] argumentList, OrderedDictionary parameter, long retry, int size, string? decodeError)
    {
        Queue = queue;
        WorkerId = workerId;
        WorkerAlive = workerAlive;
        TimeToLive = timeToLive;
        StartedAt = startedAt;
        Name = name;
        Format = format;
        ArgumentList = argumentList;
        Parameter = parameter;
        Retry = retry;
        Size = size;
        DecodeError = decodeError;
    }

    public Queue Queue { get; }
    public string WorkerId { get; }

    /// <summary>Whether the worker's liveness key exists; a task of a dead worker is recovered by the next sweep.</summary>
    public bool WorkerAlive { get; }

    /// <summary>Remaining TTL of the worker's liveness key.</summary>
    public TimeSpan? TimeToLive { get; }

    /// <summary>When the task was claimed (workers of this module only; empty for Python and Go workers).</summary>
    public DateTime? StartedAt { get; }

    /// <summary>How long the task has run (workers of this module only).</summary>
    public TimeSpan? Running => StartedAt is { } started ? DateTime.UtcNow - started.ToUniversalTime() : null;

    public string? Name { get; }
    public TaskFormat? Format { get; }
    public object?[] ArgumentList { get; }
    public OrderedDictionary Parameter { get; }
    public long Retry { get; }
    public int Size { get; }

    /// <summary>Why the task's bytes could not be decoded, if they could not.</summary>
    public string? DecodeError { get; }
}
