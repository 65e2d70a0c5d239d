using System;
using System.Management.Automation;
using Delayed.Core.Queue;

namespace Delayed.PowerShell.Commands;

/// <summary>Error records for refused administrative changes, saying what happened and what to do.</summary>
internal static class AdminErrors
{
    public static ErrorRecord NotHeld(Queue queue, string workerId) => new(
        new ItemNotFoundException($"Worker {workerId} no longer holds that task on queue '{queue.Name}': it was released, restored or removed already. Run Get-DelayedProcessing to see what it holds now."),
        "TaskNotHeld", ErrorCategory.ObjectNotFound, workerId);

    public static ErrorRecord WorkerAlive(Queue queue, string workerId, string action) => new(
        new InvalidOperationException($"Worker {workerId} on queue '{queue.Name}' is alive and may still be running the task. Use -Force to {action} anyway; the task may then run twice, or not at all."),
        "WorkerAlive", ErrorCategory.ResourceBusy, workerId);

    public static ErrorRecord QueuedTaskNotFound(Queue queue, long position) => new(
        new ItemNotFoundException($"Queue '{queue.Name}' no longer holds that task (position {position}): a worker may have taken it. Run Get-DelayedTask to see what is queued."),
        "TaskNotFound", ErrorCategory.ObjectNotFound, position);

    public static ErrorRecord WorkerNotFound(Queue queue, string workerId, AdminOutcome outcome) => new(
        new ItemNotFoundException(outcome == AdminOutcome.WorkerGone
            ? $"Worker {workerId} on queue '{queue.Name}' is gone already (its liveness key has expired)."
            : $"No worker of this module with id {workerId} is registered on queue '{queue.Name}'. Python and Go workers cannot be stopped remotely: stop them where they run. Run Get-DelayedWorker to see the workers."),
        outcome == AdminOutcome.WorkerGone ? "WorkerGone" : "WorkerNotFound", ErrorCategory.ObjectNotFound, workerId);

    public static ErrorRecord NotInStore(Queue queue, string id, string store, string why, string listSwitch) => new(
        new ItemNotFoundException($"Queue '{queue.Name}' has no {store} task {id}: {why}. Run Get-DelayedTask {listSwitch} to see what is there."),
        "TaskNotFound", ErrorCategory.ObjectNotFound, id);
}
