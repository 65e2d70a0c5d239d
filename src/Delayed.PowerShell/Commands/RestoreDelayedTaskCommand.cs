using System.Management.Automation;
using Delayed.Core.Queue;
using Delayed.PowerShell.Hosting;

namespace Delayed.PowerShell.Commands;

/// <summary>Puts an in-flight task back on its queue.</summary>
/// <remarks>
/// Moves the task a worker holds back to the head of its queue (or the tail with -Tail), with its token, in one
/// atomic step, and only if that worker still holds exactly the same bytes: a task is never restored twice, and a
/// restore never races with the worker releasing it (whichever comes first wins). A task whose worker is alive is
/// refused unless -Force, because that worker may still be running it. Use it for tasks of dead workers that
/// should not wait for the sweeper, or for a task stuck in a hung worker. Takes input from Get-DelayedProcessing.
/// </remarks>
/// <example>
/// <code>Get-DelayedProcessing $queue -Stuck | Where-Object { -not $_.WorkerAlive } | Restore-DelayedTask</code>
/// <para>Puts the tasks of dead workers back at the head of the queue.</para>
/// </example>
/// <example>
/// <code>Get-DelayedProcessing $queue -WorkerId $id | Restore-DelayedTask -Tail -Force -WhatIf</code>
/// <para>Shows what restoring the task of a live (hung) worker to the tail would do.</para>
/// </example>
[Cmdlet(VerbsData.Restore, "DelayedTask", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ProcessingTask))]
public sealed class RestoreDelayedTaskCommand : DelayedCmdlet
{
    /// <summary>The task's queue.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    /// <summary>The worker that holds the task.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string WorkerId { get; set; } = "";

    /// <summary>The exact bytes of the task (from Get-DelayedProcessing). Default: what the worker holds now.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public byte[]? Bytes { get; set; }

    /// <summary>Puts the task at the tail (runs after the tasks waiting now) instead of the head (runs next).</summary>
    [Parameter]
    public SwitchParameter Tail { get; set; }

    /// <summary>Restores even when the worker is alive; the task may then run twice.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Writes the task that was restored.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var bytes = Bytes ?? Await(Queue.Engine.GetHeldAsync(WorkerId), Queue.Name);
        if (bytes is null)
        {
            WriteError(AdminErrors.NotHeld(Queue, WorkerId));
            return;
        }
        if (!ShouldProcess($"Task held by worker {WorkerId} on queue '{Queue.Name}'", Tail ? "Restore to the tail" : "Restore to the head")) return;
        switch (Await(Queue.Engine.RestoreAsync(WorkerId, bytes, Tail, Force), WorkerId))
        {
            case AdminOutcome.Done:
                if (PassThru) WriteObject(new ProcessingTask(Queue, WorkerId, bytes, false, null, null, null));
                break;
            case AdminOutcome.WorkerAlive:
                WriteError(AdminErrors.WorkerAlive(Queue, WorkerId, "restore it"));
                break;
            default:
                WriteError(AdminErrors.NotHeld(Queue, WorkerId));
                break;
        }
    }
}
