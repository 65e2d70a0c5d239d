using System.Management.Automation;
using Delayed.PowerShell.Hosting;

namespace Delayed.PowerShell.Commands;

/// <summary>Shows a queue's length, tokens, in-flight tasks and workers.</summary>
/// <remarks>
/// Answers "is this queue healthy?": how many tasks wait (Length), how many notification tokens there are (Tokens)
/// and the drift between the two (negative: tasks wait for a sweep to add their tokens; positive: surplus tokens,
/// harmless, trimmed by a sweep), how many tasks are in flight, how many of those have a live worker and how many
/// a gone one (recovered by the next sweep), and how many workers of this module are registered.
/// </remarks>
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
public sealed class GetDelayedQueueCommand : DelayedCmdlet
{
    /// <summary>The queue to look at (a queue object, or a queue name on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    protected override void ProcessRecord() => WriteObject(new QueueInfo(Queue, Await(Queue.Engine.GetStatusAsync(), Queue.Name)));
}
