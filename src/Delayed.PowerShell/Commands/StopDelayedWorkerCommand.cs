using System.Management.Automation;
using Delayed.Core.Queue;
using Delayed.PowerShell.Parameters;

namespace Delayed.PowerShell.Commands;

/// <summary>Asks workers of this module, on any machine, to stop after their current task.</summary>
/// <remarks>
/// Records a stop request that the worker reads the next time it looks for a task: within about one dequeue
/// timeout (1 second by default) when idle, or as soon as its current task is done. The worker then stops
/// gracefully, as on Ctrl+C: its running tasks finish and are released, and it goes offline. A request for one slot
/// of a worker running several tasks at once stops the whole worker; a worker of several queues can be stopped through
/// any of them. Python and Go workers cannot be stopped this way.
/// Takes input from Get-DelayedWorker and Get-DelayedProcessing.
/// </remarks>
/// <example>
/// <code>Get-DelayedWorker $queue | Stop-DelayedWorker</code>
/// <para>Stops every worker of the queue after its current task.</para>
/// </example>
/// <example>
/// <code>Stop-DelayedWorker -Queue $queue -WorkerId 3f2a9c0d5e8b47a1b2c3d4e5f6a7b8c9</code>
/// <para>Stops one worker.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Stop, "DelayedWorker", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
public sealed class StopDelayedWorkerCommand : DelayedCmdlet
{
    /// <summary>The queue the workers serve.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    /// <summary>The ids of the workers to stop.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] WorkerId { get; set; } = System.Array.Empty<string>();

    protected override void ProcessRecord()
    {
        foreach (var id in WorkerId)
        {
            if (!ShouldProcess($"Worker {id} on queue '{Queue.Name}'", "Stop after its current task")) continue;
            var outcome = Await(Queue.Engine.RequestStopAsync(id), id);
            if (outcome != AdminOutcome.Done) WriteError(AdminErrors.WorkerNotFound(Queue, id, outcome));
        }
    }
}
