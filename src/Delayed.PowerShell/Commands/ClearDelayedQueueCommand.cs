using System.Management.Automation;
using Delayed.PowerShell.Hosting;

namespace Delayed.PowerShell.Commands;

/// <summary>Deletes a queue: its waiting tasks, tokens, in-flight records and extension keys.</summary>
/// <remarks>
/// Deletes the queue's keys (name, name_noti, name_processing) and this module's extension keys (name_inflight,
/// name_workers, name_control), and nothing else: never a worker's liveness key, never any other key. Tasks that
/// workers are running finish, but are neither retried nor recovered afterwards. Workers keep running on the (now
/// empty) queue. Asks for confirmation; use -WhatIf first.
/// </remarks>
/// <example>
/// <code>Clear-DelayedQueue $queue -WhatIf</code>
/// <para>Shows what would be deleted.</para>
/// </example>
/// <example>
/// <code>New-DelayedQueue scratch | Clear-DelayedQueue -Confirm:$false</code>
/// <para>Empties the scratch queue without asking.</para>
/// </example>
[Cmdlet(VerbsCommon.Clear, "DelayedQueue", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
public sealed class ClearDelayedQueueCommand : DelayedCmdlet
{
    /// <summary>The queue to delete (a queue object, or a queue name on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    protected override void ProcessRecord()
    {
        if (!Await(Queue.Engine.ExistsAsync(), Queue.Name))
        {
            WriteError(new ErrorRecord(new ItemNotFoundException($"Queue '{Queue.Name}' has no keys on {Queue.Redis}: there is nothing to clear. Check the queue name and the server."),
                "QueueNotFound", ErrorCategory.ObjectNotFound, Queue.Name));
            return;
        }
        var status = Await(Queue.Engine.GetStatusAsync(), Queue.Name);
        if (!ShouldProcess($"Queue '{Queue.Name}' on {Queue.Redis}: {status.Length} waiting and {status.InFlight} in-flight task(s)", "Delete all tasks")) return;
        Await(Queue.Engine.ClearAsync(), Queue.Name);
    }
}
