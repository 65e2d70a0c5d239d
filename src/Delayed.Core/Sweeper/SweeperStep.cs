namespace Delayed.Core.Sweeper;

/// <summary>What of a sweeper's work on a queue failed or works again (<see cref="DelayedSweeper.OnError"/>).</summary>
public enum SweeperStep
{
    /// <summary>A pass: recovering the tasks of gone workers and repairing the token count (every interval).</summary>
    Sweep,

    /// <summary>Moving due scheduled tasks to the queue and firing recurring runs (as they fall due, between passes).</summary>
    Promotion,
}
