using System.Management.Automation;
using Delayed.PowerShell.Parameters;

namespace Delayed.PowerShell.Commands;

/// <summary>Deletes a queue: its waiting tasks, tokens, in-flight records and extension keys.</summary>
/// <remarks>
/// Deletes the queue's keys (name, name_noti, name_processing) and this module's extension keys (name_inflight,
/// name_workers, name_control, name_scheduled, name_failed, name_failed_data, name_counters), and nothing else: never
/// a worker's liveness key, never any other key. Tasks that workers are running finish, but are neither retried nor
/// recovered afterwards. Workers keep running on the (now empty) queue. With -Failed only the failed store is
/// emptied. Recurring schedules stay (Unregister-DelayedSchedule deletes them). A queue that has nothing to clear is
/// left as it is (-Verbose says so). Asks for confirmation; use
/// -WhatIf first.
/// </remarks>
/// <example>
/// <code>Clear-DelayedQueue $queue -WhatIf</code>
/// <para>Shows what would be deleted.</para>
/// </example>
/// <example>
/// <code>New-DelayedQueue scratch | Clear-DelayedQueue -Confirm:$false</code>
/// <para>Deletes every task of the queue scratch without asking.</para>
/// </example>
/// <example>
/// <code>Clear-DelayedQueue $queue -Failed</code>
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

    /// <summary>Empties only the failed store, leaving every other task where it is.</summary>
    [Parameter]
    public SwitchParameter Failed { get; set; }

    protected override void ProcessRecord()
    {
        var status = Await(Queue.Engine.GetStatusAsync(), Queue.Name);
        if (Failed)
        {
            if (status.Failed == 0) WriteVerbose($"Queue '{Queue.Name}' on {Queue.Redis} has no failed tasks: nothing to clear.");
            else if (ShouldProcess($"Queue '{Queue.Name}' on {Queue.Redis}: {status.Failed} failed task(s)", "Delete the failed tasks"))
                Await(Queue.Engine.ClearFailedAsync(), Queue.Name);
            return;
        }
        if (!Await(Queue.Engine.ExistsAsync(), Queue.Name))
        {
            // As removing nothing is elsewhere in PowerShell: not an error.
            WriteVerbose($"Queue '{Queue.Name}' has no keys on {Queue.Redis}: nothing to clear. Check the queue name and the server if you expected tasks.");
            return;
        }
        var what = $"Queue '{Queue.Name}' on {Queue.Redis}: {status.Length} waiting, {status.InFlight} in-flight, {status.Scheduled} scheduled and {status.Failed} failed task(s)";
        if (!ShouldProcess(what, "Delete all tasks")) return;
        Await(Queue.Engine.ClearAsync(), Queue.Name);
    }
}
