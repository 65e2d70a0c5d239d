namespace Delayed.Core.Queue;

/// <summary>Counts that tell whether a queue is healthy.</summary>
public sealed class QueueStatus
{
    public QueueStatus(long length, long tokens, long inFlight, long inFlightWorkersAlive, long registeredWorkers, long scheduled = 0, long failed = 0, PauseState? pause = null)
    {
        Pause = pause;
        Scheduled = scheduled;
        Failed = failed;
        Length = length;
        Tokens = tokens;
        InFlight = inFlight;
        InFlightWorkersAlive = inFlightWorkersAlive;
        RegisteredWorkers = registeredWorkers;
    }

    /// <summary>Tasks waiting.</summary>
    public long Length { get; }

    /// <summary>Notification tokens; at rest equal to <see cref="Length"/>.</summary>
    public long Tokens { get; }

    /// <summary>Tasks held by workers.</summary>
    public long InFlight { get; }

    /// <summary>Of the in-flight tasks, those whose worker is alive.</summary>
    public long InFlightWorkersAlive { get; }

    /// <summary>Workers of this implementation registered on the queue.</summary>
    public long RegisteredWorkers { get; }

    /// <summary>Tasks that run later (the schedule, retries waiting out their back-off included).</summary>
    public long Scheduled { get; }

    /// <summary>Tasks in the failed store.</summary>
    public long Failed { get; }

    /// <summary>Since when and why the queue is paused; null when it is not.</summary>
    public PauseState? Pause { get; }
}
