using System;
using System.Collections.Generic;
using System.Management.Automation;
using Delayed.PowerShell.Parameters;
using Delayed.PowerShell.Jobs;

namespace Delayed.PowerShell.Commands;

/// <summary>Shows queued tasks without taking them.</summary>
/// <remarks>
/// Reads the waiting tasks from the head of the queue (position 0 runs next), decoded: name, format, arguments,
/// named parameters, retry budget and size. The tasks shown are read in one atomic range read, a snapshot of the
/// queue at one instant, before the first is written: so a pipeline that removes what it reads
/// (Get-DelayedTask | Where-Object ... | Remove-DelayedTask) sees every task, however many it removes and however
/// many tasks workers take meanwhile. -First 10 on a queue of a million tasks reads ten. Nothing is taken or
/// changed. Tasks that cannot be decoded are shown with their DecodeError. Positions are those of the snapshot:
/// workers taking tasks from the head move the others forward.
/// -Scheduled lists the tasks that run later (scheduled with -Delay or -At, or waiting out a retry back-off), earliest
/// first, with DueAt. -Failed lists the failed store, newest first: tasks that failed for good, with their Reason,
/// Error, Attempts, Worker, Host and FailedAt.
/// -Id finds tracked tasks (Add-DelayedTask -AsJob) from any session: their State (Queued, Scheduled, Running,
/// Completed, Failed, Stopped, TakenUntracked by a Python or Go worker, or Unknown once kept past its time), worker,
/// times, attempt and error; with -AsJob, a job of this session that follows the task, to wait on and receive from.
/// </remarks>
/// <example>
/// <code>Get-DelayedTask $queue -Id 3f2a9c0e4b7d1e65 -AsJob | Receive-Job -Wait</code>
/// <para>From another session or machine: waits for a tracked task and returns what its handler returned.</para>
/// </example>
/// <example>
/// <code>Get-DelayedTask $queue -First 10</code>
/// <para>The next ten tasks to run.</para>
/// </example>
/// <example>
/// <code>Get-DelayedTask $queue -Scheduled -First 5</code>
/// <para>The next five tasks due, earliest first, with DueAt.</para>
/// </example>
/// <example>
/// <code>Get-DelayedTask $queue -Failed -Reason NoHandler, BadCall | Format-List Name, FailedAt, Reason, Error</code>
/// <para>The failed tasks that no worker could run, newest first, with their errors.</para>
/// </example>
/// <example>
/// <code>Get-DelayedTask $queue -Failed | Restore-DelayedTask -Retry 3</code>
/// <para>Puts every failed task back on the queue with a fresh retry budget of three.</para>
/// </example>
/// <example>
/// <code>Get-DelayedTask $queue | Where-Object Name -eq 'Format-Disk' | Remove-DelayedTask</code>
/// <para>Removes every queued task of one name, asking for confirmation.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DelayedTask", DefaultParameterSetName = QueuedSet)]
[OutputType(typeof(QueuedTask), ParameterSetName = new[] { QueuedSet })]
[OutputType(typeof(ScheduledTask), ParameterSetName = new[] { ScheduledSet })]
[OutputType(typeof(FailedTask), ParameterSetName = new[] { FailedSet })]
[OutputType(typeof(TrackedTaskInfo), typeof(Job), ParameterSetName = new[] { IdSet })]
public sealed class GetDelayedTaskCommand : DelayedCmdlet
{
    private const string QueuedSet = "Queued", ScheduledSet = "Scheduled", FailedSet = "Failed", IdSet = "Id";

    /// <summary>From this many tasks on, writing them shows progress.</summary>
    private const int ProgressFrom = 10_000;

    /// <summary>The queue to read (a queue object, or a queue name on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    /// <summary>The ids of tracked tasks (Add-DelayedTask -AsJob gives them, as the jobs' TrackingId).</summary>
    [Parameter(Mandatory = true, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    [Alias("TrackingId")]
    [ValidateNotNullOrEmpty]
    public string[] Id { get; set; } = Array.Empty<string>();

    /// <summary>With -Id: a job of this session for each task, which Wait-Job, Receive-Job and Stop-Job take.</summary>
    [Parameter(ParameterSetName = IdSet)]
    public SwitchParameter AsJob { get; set; }

    /// <summary>How many tasks to show at most. Default: all.</summary>
    [Parameter(ParameterSetName = QueuedSet)]
    [Parameter(ParameterSetName = ScheduledSet)]
    [Parameter(ParameterSetName = FailedSet)]
    [ValidateRange(1, long.MaxValue)]
    public long First { get; set; } = long.MaxValue;

    /// <summary>How many tasks to pass over from the head first.</summary>
    [Parameter(ParameterSetName = QueuedSet)]
    [Parameter(ParameterSetName = ScheduledSet)]
    [Parameter(ParameterSetName = FailedSet)]
    [ValidateRange(0, long.MaxValue)]
    public long Skip { get; set; }

    /// <summary>Lists the tasks that run later, earliest first.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ScheduledSet)]
    public SwitchParameter Scheduled { get; set; }

    /// <summary>Lists the failed store, newest first.</summary>
    [Parameter(Mandatory = true, ParameterSetName = FailedSet)]
    public SwitchParameter Failed { get; set; }

    /// <summary>Only failed tasks with one of these reasons.</summary>
    [Parameter(ParameterSetName = FailedSet)]
    [ValidateSet("Failed", "BadCall", "NoHandler", "Malformed", "TimedOut", "WorkerLost", "Oversize")]
    public string[]? Reason { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == IdSet)
        {
            WriteTracked();
            return;
        }
        if (ParameterSetName == ScheduledSet)
        {
            foreach (var entry in Await(Queue.Engine.GetScheduledAsync(Skip, First), Queue.Name))
                WriteObject(new ScheduledTask(Queue, entry.Id, entry.DueAt, entry.Raw));
            return;
        }
        if (ParameterSetName == FailedSet)
        {
            var reasons = Reason is null ? null : new HashSet<string>(Reason, StringComparer.OrdinalIgnoreCase);
            long index = 0, shown = 0;
            foreach (var entry in Await(Queue.Engine.GetFailedAsync(), Queue.Name))
            {
                if (reasons is not null && !reasons.Contains(entry.Reason)) continue;
                if (index++ < Skip) continue;
                if (shown++ >= First) break;
                WriteObject(new FailedTask(Queue, entry));
            }
            return;
        }
        // One read, then the writing: a page-by-page read would skip tasks when the pipeline removes what it was given.
        var snapshot = Await(Queue.Engine.PeekAsync(Skip, First), Queue.Name);
        var activity = $"Listing queue '{Queue.Name}'";
        for (var i = 0; i < snapshot.Count && !StopToken.IsCancellationRequested; i++)
        {
            if (snapshot.Count >= ProgressFrom && i % 1000 == 0)
                WriteProgress(new ProgressRecord(1, activity, $"{i:N0} of {snapshot.Count:N0} tasks") { PercentComplete = (int)((long)i * 100 / snapshot.Count) });
            WriteObject(new QueuedTask(Queue, snapshot[i].Position, snapshot[i].Raw));
        }
        if (snapshot.Count >= ProgressFrom) WriteProgress(new ProgressRecord(1, activity, "Done") { RecordType = ProgressRecordType.Completed });
    }

    private void WriteTracked()
    {
        var ids = new List<string>();
        foreach (var id in Id)
        {
            var normal = id.Trim().ToLowerInvariant();
            if (Core.Queue.TrackingIds.IsWellFormed(normal)) ids.Add(normal);
            else WriteError(new ErrorRecord(new ArgumentException($"'{id}' is not the id of a tracked task: those are {Core.Queue.TrackingIds.Length} hexadecimal characters, as a job of Add-DelayedTask -AsJob shows in its TrackingId."), "InvalidTrackingId", ErrorCategory.InvalidArgument, id));
        }
        foreach (var record in Await(Queue.Engine.GetTrackedAsync(ids, withData: true), Queue.Name))
        {
            if (record.State == Core.Queue.TrackedState.Unknown)
            {
                WriteError(new ErrorRecord(new ItemNotFoundException(
                    $"Queue '{Queue.Name}' has no tracked task {record.Id}{(record.Error is null ? "" : $" ({record.Error})")}: it was never tracked there, or it ended longer ago than it was kept (-KeepFor of Add-DelayedTask), or the queue was cleared."),
                    "TrackedTaskNotFound", ErrorCategory.ObjectNotFound, record.Id));
                continue;
            }
            var info = new TrackedTaskInfo(Queue, record);
            if (!AsJob)
            {
                WriteObject(info);
                continue;
            }
            var job = new DelayedTaskJob(Queue, record.Id, info.Name ?? "(undecodable)");
            JobRepository.Add(job);
            job.Track();
            WriteObject(job);
        }
    }
}
