using System.Linq;
using System.Management.Automation;
using Delayed.PowerShell.Parameters;

namespace Delayed.PowerShell.Commands;

/// <summary>Shows the workers of this module registered on a queue, busy or idle.</summary>
/// <remarks>
/// Each worker slot registers itself with its host name, process id and start time. A worker that is gone (its
/// liveness key expired without it going offline: killed, crashed, host lost) shows Alive = False until the next
/// sweep removes its entry. Python and Go workers do not register and are not listed; see their in-flight tasks
/// with Get-DelayedProcessing.
/// </remarks>
/// <example>
/// <code>Get-DelayedWorker $queue</code>
/// <para>Every worker of the queue, where it runs and when it last refreshed its liveness key.</para>
/// </example>
/// <example>
/// <code>Get-DelayedWorker $queue | Where-Object Host -eq 'web01' | Stop-DelayedWorker</code>
/// <para>Asks the workers on one host to stop after their current task.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DelayedWorker")]
[OutputType(typeof(WorkerInfo))]
public sealed class GetDelayedWorkerCommand : DelayedCmdlet
{
    /// <summary>The queue whose workers to show (a queue object, or a queue name on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    protected override void ProcessRecord()
    {
        foreach (var worker in Await(Queue.Engine.GetWorkersAsync(), Queue.Name).OrderBy(w => w.Description.StartedAt))
            WriteObject(new WorkerInfo(Queue, worker));
    }
}
