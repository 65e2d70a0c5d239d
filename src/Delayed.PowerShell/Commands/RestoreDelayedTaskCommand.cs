using System;
using System.Collections.Generic;
using System.Management.Automation;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.PowerShell.Conversion;
using Delayed.PowerShell.Parameters;

namespace Delayed.PowerShell.Commands;

/// <summary>Puts an in-flight or a failed task back on its queue.</summary>
/// <remarks>
/// Moves the task a worker holds back to the head of its queue (or the tail with -Tail), with its token, in one
/// atomic step, and only if that worker still holds exactly the same bytes: a task is never restored twice, and a
/// restore never races with the worker releasing it (whichever comes first wins). A task whose worker is alive is
/// refused unless -Force, because that worker may still be running it. Use it for tasks of dead workers that
/// should not wait for the sweeper, or for a task stuck in a hung worker. Takes input from Get-DelayedProcessing.
/// A failed task (from Get-DelayedTask -Failed) goes back to the tail of the queue with a token and leaves the failed
/// store, in one atomic step, only if it is still there: restoring twice never enqueues twice. -Retry gives a
/// Python-shaped task a fresh retry budget. Failed tasks are restored in batches of up to 1,000 per round trip.
/// </remarks>
/// <example>
/// <code>Get-DelayedTask $queue -Failed | Restore-DelayedTask</code>
/// <para>Retry all: puts every failed task back on the queue.</para>
/// </example>
/// <example>
/// <code>Get-DelayedProcessing $queue -Stuck | Where-Object { -not $_.WorkerAlive } | Restore-DelayedTask</code>
/// <para>Puts the tasks of dead workers back at the head of the queue.</para>
/// </example>
/// <example>
/// <code>Get-DelayedProcessing $queue -WorkerId $id | Restore-DelayedTask -Tail -Force -WhatIf</code>
/// <para>Shows what restoring the task of a live (hung) worker to the tail would do.</para>
/// </example>
[Cmdlet(VerbsData.Restore, "DelayedTask", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = InFlight)]
[OutputType(typeof(ProcessingTask), ParameterSetName = new[] { InFlight })]
[OutputType(typeof(QueuedTask), ParameterSetName = new[] { Failed })]
public sealed class RestoreDelayedTaskCommand : DelayedCmdlet
{
    private const string InFlight = "InFlight", Failed = "Failed";
    private const int BatchSize = 1000;
    private readonly List<(string Id, byte[] Task)> _batch = new();

    /// <summary>The task's queue.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    /// <summary>The worker that holds the task.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = InFlight, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string WorkerId { get; set; } = "";

    /// <summary>The id of a failed task (from Get-DelayedTask -Failed).</summary>
    [Parameter(Mandatory = true, ParameterSetName = Failed, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string FailureId { get; set; } = "";

    /// <summary>The exact bytes of the task (from Get-DelayedProcessing or Get-DelayedTask -Failed). Default: what the worker holds now.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public byte[]? Bytes { get; set; }

    /// <summary>A fresh retry budget for a failed Python-shaped task: how many more times it is tried if it fails again.</summary>
    [Parameter(ParameterSetName = Failed)]
    public int? Retry { get; set; }

    /// <summary>Puts the task at the tail (runs after the tasks waiting now) instead of the head (runs next).</summary>
    [Parameter(ParameterSetName = InFlight)]
    public SwitchParameter Tail { get; set; }

    /// <summary>Restores even when the worker is alive; the task may then run twice.</summary>
    [Parameter(ParameterSetName = InFlight)]
    public SwitchParameter Force { get; set; }

    /// <summary>
    /// Writes the task that was restored: an in-flight one as it was held (a ProcessingTask), a failed one as it now
    /// waits (a QueuedTask, with the place it was put at).
    /// </summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == Failed)
        {
            QueueFailed();
            return;
        }
        var bytes = Bytes ?? Await(Queue.Engine.GetHeldAsync(WorkerId), Queue.Name);
        if (bytes is null)
        {
            WriteError(AdminErrors.NotHeld(Queue, WorkerId));
            return;
        }
        // Refused the same way with -WhatIf as without: what -WhatIf promises, the run does.
        if (!Force && Await(Queue.Engine.IsWorkerAliveAsync(WorkerId), WorkerId))
        {
            WriteError(AdminErrors.WorkerAlive(Queue, WorkerId, "restore it"));
            return;
        }
        if (!ShouldProcess($"Task {TaskView.Of(bytes).Describe()} held by worker {WorkerId} on queue '{Queue.Name}'", Tail ? "Restore to the tail" : "Restore to the head")) return;
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

    protected override void EndProcessing() => FlushFailed();

    private void QueueFailed()
    {
        if (Bytes is null)
        {
            WriteError(new ErrorRecord(new ArgumentException($"Failed task {FailureId} needs its -Bytes: pipe it from Get-DelayedTask -Failed."), "BytesMissing", ErrorCategory.InvalidArgument, FailureId));
            return;
        }
        byte[] task;
        try
        {
            task = Retry is { } retry ? TaskEncoder.WithRetry(TaskDecoder.Decode(Bytes!), retry) : Bytes!;
        }
        catch (Exception e) when (e is MalformedTaskException or InvalidOperationException)
        {
            WriteError(new ErrorRecord(new ArgumentException($"Failed task {FailureId} cannot take -Retry: {e.Message} Restore it without -Retry.", e),
                "RetryNotApplicable", ErrorCategory.InvalidArgument, FailureId));
            return;
        }
        var budget = Retry is { } r ? $" with a retry budget of {r}" : "";
        if (!ShouldProcess($"Failed task {TaskView.Of(Bytes!).Describe()} ({FailureId}) of queue '{Queue.Name}'", $"Restore to the tail{budget}")) return;
        if (_batch.Count > 0 && !ReferenceEquals(_batchQueue!.Engine, Queue.Engine)) FlushFailed();
        _batchQueue = Queue;
        _batch.Add((FailureId, task));
        if (_batch.Count >= BatchSize) FlushFailed();
    }

    private Queue? _batchQueue;

    private void FlushFailed()
    {
        if (_batch.Count == 0) return;
        var restored = Await(_batchQueue!.Engine.RestoreFailedAsync(_batch.ToArray()), _batchQueue.Name);
        for (var i = 0; i < restored.Length; i++)
        {
            if (restored[i] is not { } place) WriteError(AdminErrors.NotInStore(_batchQueue, _batch[i].Id, "failed", "it was restored, removed or trimmed already", "-Failed"));
            else if (PassThru) WriteObject(new QueuedTask(_batchQueue, place, _batch[i].Task));
        }
        _batch.Clear();
    }
}
