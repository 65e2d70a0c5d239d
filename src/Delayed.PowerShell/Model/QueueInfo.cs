using Delayed.Core.Queue;

namespace Delayed;

/// <summary>The state of a queue, as Get-DelayedQueue shows it.</summary>
public sealed class QueueInfo
{
    internal QueueInfo(Queue queue, QueueStatus status)
    {
        Queue = queue;
        Length = status.Length;
        Tokens = status.Tokens;
        InFlight = status.InFlight;
        InFlightWorkersAlive = status.InFlightWorkersAlive;
        Workers = status.RegisteredWorkers;
        Scheduled = status.Scheduled;
        Failed = status.Failed;
        Paused = status.Pause is not null;
        PausedSince = status.Pause is { } pause && pause.Since != System.DateTimeOffset.MinValue ? pause.Since.ToLocalTime() : null;
        PauseReason = status.Pause?.Reason;
    }

    /// <summary>Whether the queue is paused (Suspend-DelayedQueue): this module's workers take no task, and scheduled and recurring tasks wait.</summary>
    public bool Paused { get; }

    /// <summary>Since when it is paused (local time, with its offset, by the Redis server's clock).</summary>
    public System.DateTimeOffset? PausedSince { get; }

    /// <summary>Why it is paused, as Suspend-DelayedQueue -Reason gave it.</summary>
    public string? PauseReason { get; }

    public Queue Queue { get; }
    public string Name => Queue.Name;

    /// <summary>Tasks waiting.</summary>
    public long Length { get; }

    /// <summary>Notification tokens; at rest one per waiting task.</summary>
    public long Tokens { get; }

    /// <summary>Tokens minus tasks: negative means tasks wait for a sweep to add their tokens; positive, surplus tokens (harmless; a sweep trims them).</summary>
    public long Drift => Tokens - Length;

    /// <summary>Tasks workers hold now.</summary>
    public long InFlight { get; }

    /// <summary>In-flight tasks whose worker is alive.</summary>
    public long InFlightWorkersAlive { get; }

    /// <summary>In-flight tasks whose worker is gone: the next sweep puts them back.</summary>
    public long InFlightWorkersGone => InFlight - InFlightWorkersAlive;

    /// <summary>Workers of this module registered on the queue.</summary>
    public long Workers { get; }

    /// <summary>Tasks that run later: scheduled with -Delay or -At, and failed tasks waiting out their retry back-off.</summary>
    public long Scheduled { get; }

    /// <summary>Tasks in the failed store (Get-DelayedTask -Failed).</summary>
    public long Failed { get; }
}
