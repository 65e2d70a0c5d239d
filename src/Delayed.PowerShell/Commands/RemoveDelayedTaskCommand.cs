using System;
using System.Management.Automation;
using Delayed.Core.Queue;
using Delayed.PowerShell.Conversion;
using Delayed.PowerShell.Parameters;

namespace Delayed.PowerShell.Commands;

/// <summary>Deletes a queued, scheduled, failed or in-flight task.</summary>
/// <remarks>
/// A queued task (from Get-DelayedTask) is identified by its position and exact bytes and removed together with one
/// token; if workers took tasks ahead of it since, it is found by its bytes (tasks with equal bytes are
/// interchangeable). An in-flight task (from Get-DelayedProcessing) is removed only if its worker still holds exactly
/// those bytes, and, unless -Force, only if that worker is gone. A scheduled task (Get-DelayedTask -Scheduled) is
/// cancelled by its ScheduleId; a failed one (Get-DelayedTask -Failed) is deleted from the failed store by its
/// FailureId. The task is deleted for good: it never runs (again).
/// </remarks>
/// <example>
/// <code>Get-DelayedTask $queue -Scheduled | Where-Object Name -eq 'Reboot-Server' | Remove-DelayedTask</code>
/// <para>Cancels every scheduled reboot.</para>
/// </example>
/// <example>
/// <code>Get-DelayedTask $queue -Failed -Reason Malformed | Remove-DelayedTask -Confirm:$false</code>
/// <para>Deletes the failed tasks whose bytes could not be decoded.</para>
/// </example>
/// <example>
/// <code>Get-DelayedTask $queue | Where-Object Name -eq 'Format-Disk' | Remove-DelayedTask</code>
/// <para>Deletes every queued Format-Disk task, asking for confirmation of each.</para>
/// </example>
/// <example>
/// <code>Get-DelayedProcessing $queue -Stuck | Remove-DelayedTask -Confirm:$false</code>
/// <para>Deletes the tasks of dead workers instead of letting the sweeper run them again.</para>
/// </example>
[Cmdlet(VerbsCommon.Remove, "DelayedTask", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = Queued)]
public sealed class RemoveDelayedTaskCommand : DelayedCmdlet
{
    private const string Queued = "Queued", InFlight = "InFlight", Scheduled = "Scheduled", Failed = "Failed";

    /// <summary>The task's queue.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    /// <summary>The position of a queued task (from Get-DelayedTask; 0 is the head).</summary>
    [Parameter(Mandatory = true, ParameterSetName = Queued, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, long.MaxValue)]
    public long Position { get; set; }

    /// <summary>The worker that holds an in-flight task (from Get-DelayedProcessing).</summary>
    [Parameter(Mandatory = true, ParameterSetName = InFlight, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string WorkerId { get; set; } = "";

    /// <summary>The id of a scheduled task (from Get-DelayedTask -Scheduled).</summary>
    [Parameter(Mandatory = true, ParameterSetName = Scheduled, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string ScheduleId { get; set; } = "";

    /// <summary>The id of a failed task (from Get-DelayedTask -Failed).</summary>
    [Parameter(Mandatory = true, ParameterSetName = Failed, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string FailureId { get; set; } = "";

    /// <summary>The exact bytes of the task. Default: what is at that position, or what the worker holds, now. Needed for a scheduled task.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public byte[]? Bytes { get; set; }

    /// <summary>Removes an in-flight task even when its worker is alive.</summary>
    [Parameter(ParameterSetName = InFlight)]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case InFlight:
                RemoveInFlight();
                break;
            case Scheduled:
                if (Bytes is null)
                {
                    WriteError(new ErrorRecord(new ArgumentException($"Scheduled task {ScheduleId} needs its -Bytes: pipe it from Get-DelayedTask -Scheduled."), "BytesMissing", ErrorCategory.InvalidArgument, ScheduleId));
                    return;
                }
                if (!ShouldProcess($"Scheduled task {TaskView.Of(Bytes!).Describe()} ({ScheduleId}) of queue '{Queue.Name}'", "Remove")) return;
                if (Await(Queue.Engine.RemoveScheduledAsync(ScheduleId, Bytes!), Queue.Name) != AdminOutcome.Done)
                    WriteError(AdminErrors.NotInStore(Queue, ScheduleId, "scheduled", "it became due and was moved to the queue, or was removed already", "-Scheduled"));
                break;
            case Failed:
                if (!ShouldProcess($"Failed task {FailureId} of queue '{Queue.Name}'", "Remove")) return;
                if (!Await(Queue.Engine.RemoveFailedAsync(new[] { FailureId }), Queue.Name)[0])
                    WriteError(AdminErrors.NotInStore(Queue, FailureId, "failed", "it was restored, removed or trimmed already", "-Failed"));
                break;
            default:
                RemoveQueued();
                break;
        }
    }

    private void RemoveQueued()
    {
        var bytes = Bytes ?? Await(Queue.Engine.GetQueuedAsync(Position), Queue.Name);
        if (bytes is null)
        {
            WriteError(AdminErrors.QueuedTaskNotFound(Queue, Position));
            return;
        }
        if (!ShouldProcess($"Task {TaskView.Of(bytes).Describe()} at position {Position} of queue '{Queue.Name}'", "Remove")) return;
        if (Await(Queue.Engine.RemoveQueuedAsync(Position, bytes), Queue.Name) != AdminOutcome.Done)
            WriteError(AdminErrors.QueuedTaskNotFound(Queue, Position));
    }

    private void RemoveInFlight()
    {
        var bytes = Bytes ?? Await(Queue.Engine.GetHeldAsync(WorkerId), Queue.Name);
        if (bytes is null)
        {
            WriteError(AdminErrors.NotHeld(Queue, WorkerId));
            return;
        }
        if (!Force && Await(Queue.Engine.IsWorkerAliveAsync(WorkerId), WorkerId))
        {
            WriteError(AdminErrors.WorkerAlive(Queue, WorkerId, "remove it"));
            return;
        }
        if (!ShouldProcess($"Task {TaskView.Of(bytes).Describe()} held by worker {WorkerId} on queue '{Queue.Name}'", "Remove")) return;
        switch (Await(Queue.Engine.RemoveInFlightAsync(WorkerId, bytes, Force), WorkerId))
        {
            case AdminOutcome.Done:
                break;
            case AdminOutcome.WorkerAlive:
                WriteError(AdminErrors.WorkerAlive(Queue, WorkerId, "remove it"));
                break;
            default:
                WriteError(AdminErrors.NotHeld(Queue, WorkerId));
                break;
        }
    }
}
