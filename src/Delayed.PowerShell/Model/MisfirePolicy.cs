namespace Delayed;

/// <summary>What a recurring schedule does about runs missed while no worker or sweeper ran (for more than 5 seconds past their time).</summary>
public enum MisfirePolicy
{
    /// <summary>One catch-up run, however many were missed; then on with the next run to come.</summary>
    RunOnce,

    /// <summary>No catch-up: the missed runs are let go; the next run to come runs.</summary>
    Skip,
}
