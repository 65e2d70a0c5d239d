using System;
using System.Collections.Specialized;
using Delayed.PowerShell.Conversion;

namespace Delayed;

/// <summary>A task a worker holds right now, as Get-DelayedProcessing shows it.</summary>
public sealed class ProcessingTask
{
    private readonly TaskView _view;

    internal ProcessingTask(Queue queue, string workerId, byte[] bytes, bool workerAlive, TimeSpan? timeToLive, DateTime? startedAt, WorkerInfo? worker)
    {
        Queue = queue;
        WorkerId = workerId;
        Bytes = bytes;
        WorkerAlive = workerAlive;
        TimeToLive = timeToLive;
        StartedAt = startedAt;
        Worker = worker;
        _view = TaskView.Of(bytes);
    }

    public Queue Queue { get; }
    public string WorkerId { get; }

    /// <summary>Whether the worker's liveness key exists; a task of a dead worker is recovered by the next sweep.</summary>
    public bool WorkerAlive { get; }

    /// <summary>Remaining TTL of the worker's liveness key.</summary>
    public TimeSpan? TimeToLive { get; }

    /// <summary>When the task was claimed (UTC; workers of this module only, empty for Python and Go workers).</summary>
    public DateTime? StartedAt { get; }

    /// <summary>How long the task has run (workers of this module only).</summary>
    public TimeSpan? Running => StartedAt is { } started ? DateTime.UtcNow - started : null;

    /// <summary>The worker's registration (workers of this module only).</summary>
    public WorkerInfo? Worker { get; }

    public string? WorkerHost => Worker?.Host;
    public int? WorkerProcessId => Worker?.ProcessId;
    public DateTime? WorkerStartedAt => Worker?.StartedAt;

    /// <summary>How long ago the worker last refreshed its liveness key (workers of this module only).</summary>
    public TimeSpan? SinceLastRefresh => Worker?.SinceLastRefresh;

    public string? Name => _view.Name;
    public TaskFormat? Format => _view.Format;
    public object?[] ArgumentList => _view.ArgumentList;
    public OrderedDictionary Parameter => _view.Parameter;
    public long Retry => _view.Retry;
    public int Size => Bytes.Length;

    /// <summary>The task's exact bytes: Restore-DelayedTask and Remove-DelayedTask act only if the worker still holds them.</summary>
    public byte[] Bytes { get; }

    /// <summary>Why the task's bytes could not be decoded, if they could not.</summary>
    public string? DecodeError => _view.DecodeError;
}
