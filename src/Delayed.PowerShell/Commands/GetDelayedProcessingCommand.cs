using System;
using System.Linq;
using System.Management.Automation;
using Delayed.PowerShell.Parameters;

namespace Delayed.PowerShell.Commands;

/// <summary>Shows the tasks that workers are running now.</summary>
/// <remarks>
/// One object per in-flight task: its worker's id, whether that worker is alive (its liveness key exists) and the
/// key's remaining time to live, and the task's name, format, arguments, named parameters and retry budget. A task
/// whose worker is gone is put back on the queue by the next sweep (Start-DelayedSweeper), or at once with
/// Restore-DelayedTask. For tasks held by this module's workers it also shows when the task started and how long
/// it has run, the worker's host, process id and start time, and how long ago the worker last refreshed its
/// liveness key. For tasks held by Python or Go workers those fields are empty: they are never guessed.
/// </remarks>
/// <example>
/// <code>Get-DelayedProcessing $queue</code>
/// <para>What is running now, and where.</para>
/// </example>
/// <example>
/// <code>Get-DelayedProcessing $queue -Stuck -OlderThan (New-TimeSpan -Minutes 30) | Format-List Name, WorkerHost, WorkerProcessId, Running, WorkerAlive</code>
/// <para>Tasks whose worker is gone, or that have run for more than 30 minutes.</para>
/// </example>
/// <example>
/// <code>Get-DelayedWorker $queue | Where-Object Host -eq 'web01' | Get-DelayedProcessing</code>
/// <para>The tasks that the workers on web01 are running.</para>
/// </example>
/// <example>
/// <code>Get-DelayedProcessing $queue -Stuck | Where-Object { -not $_.WorkerAlive } | Restore-DelayedTask</code>
/// <para>Puts the tasks of dead workers back at the head of the queue now, instead of waiting for the sweeper.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DelayedProcessing")]
[OutputType(typeof(ProcessingTask))]
public sealed class GetDelayedProcessingCommand : DelayedCmdlet
{
    private static readonly TimeSpan DefaultStuckAfter = TimeSpan.FromHours(1);

    /// <summary>The queue to look at (a queue object, or a queue name on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    /// <summary>Only the tasks of these workers; takes the WorkerId of piped objects (Get-DelayedWorker's).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[]? WorkerId { get; set; }

    /// <summary>Only tasks that have run longer than this (known for this module's workers only). With -Stuck, the threshold for a stuck task.</summary>
    [Parameter]
    public TimeSpan? OlderThan { get; set; }

    /// <summary>Only stuck tasks: the worker is gone, or the task has run longer than -OlderThan (default 1 hour).</summary>
    [Parameter]
    public SwitchParameter Stuck { get; set; }

    protected override void ProcessRecord()
    {
        var workers = WorkerId is null ? null : new System.Collections.Generic.HashSet<string>(WorkerId, StringComparer.Ordinal);
        foreach (var entry in Await(Queue.Engine.GetInFlightAsync(), Queue.Name).OrderBy(e => e.StartedAt ?? DateTimeOffset.MaxValue))
        {
            if (workers is not null && !workers.Contains(entry.WorkerId)) continue;
            var record = new ProcessingTask(Queue, entry.WorkerId, entry.Raw, entry.WorkerAlive, entry.TimeToLive, entry.StartedAt?.ToLocalTime(),
                entry.Worker is { } worker ? new WorkerInfo(Queue, worker) : null);
            if (Stuck)
            {
                if (record.WorkerAlive && !(record.Running > (OlderThan ?? DefaultStuckAfter))) continue;
            }
            else if (OlderThan is { } age && !(record.Running > age))
            {
                continue;
            }
            WriteObject(record);
        }
    }
}
