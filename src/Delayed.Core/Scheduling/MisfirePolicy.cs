namespace Delayed.Core.Scheduling;

/// <summary>What a recurring schedule does about ticks that no worker or sweeper fired in time.</summary>
public enum MisfirePolicy
{
    /// <summary>One catch-up run, however many ticks were missed; then on with the next tick to come.</summary>
    RunOnce = 0,

    /// <summary>No catch-up: missed ticks are let go, and the next tick to come runs.</summary>
    Skip = 1,
}
