using System.Management.Automation;

namespace Delayed.PowerShell.Commands;

/// <summary>Shows a queue's length, tokens, in-flight tasks and workers.</summary>
/// <remarks>
/// Answers "is this queue healthy?": how many tasks wait (Length), how many notification tokens there are (Tokens)
/// and the drift between the two (negative: tasks wait for a sweep to add their tokens; positive: surplus tokens,
/// harmless, trimmed by a sweep), how many tasks are in flight, how many of those have a live worker and how many
/// a gone one (recovered by the next sweep), how many tasks are scheduled and failed, and how many workers of this
/// module are registered. Without a queue it lists every queue of the server (-Redis, else the default one), found by
/// SCAN over their keys, never KEYS.
/// </remarks>
/// <example>
/// <code>Get-DelayedQueue -Redis 'redis01:6379'</code>
/// <para>Every queue on redis01.</para>
/// </example>
/// <example>
/// <code>Get-DelayedQueue $queue</code>
/// <para>The queue's counts.</para>
/// </example>
/// <example>
/// <code>'jobs', 'reports' | Get-DelayedQueue | Where-Object InFlightWorkersGone -gt 0</code>
/// <para>The queues with tasks of dead workers.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DelayedQueue")]
[OutputType(typeof(QueueInfo))]
public sealed class GetDelayedQueueCommand : QueuesOrServerCmdlet
{


    protected override void ProcessRecord()
    {
        foreach (var queue in Queue ?? AllQueues(Redis)) WriteObject(new QueueInfo(queue, Await(queue.Engine.GetStatusAsync(), queue.Name)));
    }
}
