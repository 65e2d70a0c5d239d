using System;
using System.Management.Automation;
using Delayed.PowerShell.Hosting;

namespace Delayed.PowerShell.Commands;

/// <summary>Shows queued tasks without taking them.</summary>
/// <remarks>
/// Reads the waiting tasks from the head of the queue (position 0 runs next), decoded: name, format, arguments,
/// named parameters, retry budget and size. The queue is read a page at a time, so -First 10 on a queue of a
/// million tasks reads ten, and a pipeline that stops early (Select-Object -First) stops the reading. Nothing is
/// taken or changed. Tasks that cannot be decoded are shown with their DecodeError.
/// </remarks>
/// <example>
/// <code>Get-DelayedTask $queue -First 10</code>
/// <para>The next ten tasks to run.</para>
/// </example>
/// <example>
/// <code>Get-DelayedTask $queue | Where-Object Name -eq 'Format-Disk' | Remove-DelayedTask</code>
/// <para>Removes every queued task of one name, asking for confirmation.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DelayedTask")]
[OutputType(typeof(QueuedTask))]
public sealed class GetDelayedTaskCommand : DelayedCmdlet
{
    private const int PageSize = 1000;

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

    protected override void ProcessRecord()
    {
        long shown = 0, position = Skip;
        var total = First == long.MaxValue ? Await(Queue.Engine.GetLengthAsync(), Queue.Name) - Skip : First;
        while (shown < First && !StopToken.IsCancellationRequested)
        {
            var wanted = Math.Min(PageSize, First - shown);
            var page = Await(Queue.Engine.PeekAsync(position, wanted), Queue.Name);
            foreach (var task in page) WriteObject(new QueuedTask(Queue, task.Position, task.Raw));
            shown += page.Count;
            position += page.Count;
            if (page.Count < wanted) break;
            if (total > PageSize)
                WriteProgress(new ProgressRecord(1, $"Reading queue '{Queue.Name}'", $"{shown:N0} of about {total:N0} tasks") { PercentComplete = (int)Math.Min(100, shown * 100 / Math.Max(1, total)) });
        }
        if (total > PageSize) WriteProgress(new ProgressRecord(1, $"Reading queue '{Queue.Name}'", "Done") { RecordType = ProgressRecordType.Completed });
    }
}
