using System;
using System.Collections.Generic;
using System.Management.Automation;
using Delayed.PowerShell.Hosting;

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
/// </remarks>
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
public sealed class GetDelayedTaskCommand : DelayedCmdlet
{
    private const string QueuedSet = "Queued", ScheduledSet = "Scheduled", FailedSet = "Failed";

    /// <summary>From this many tasks on, writing them shows progress.</summary>
    private const int ProgressFrom = 10_000;

    /// <summary>The queue to read (a queue object, or a queue name on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    /// <summary>How many tasks to show at most. Default: all.</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long First { get; set; } = long.MaxValue;

    /// <summary>How many tasks to pass over from the head first.</summary>
    [Parameter]
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
}
