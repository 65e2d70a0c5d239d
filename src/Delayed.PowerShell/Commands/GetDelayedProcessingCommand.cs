using System;
using System.Collections.Specialized;
using System.Linq;
using System.Management.Automation;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.PowerShell.Conversion;
using Delayed.PowerShell.Hosting;

namespace Delayed.PowerShell.Commands;

/// <summary>Shows the tasks that workers are running now.</summary>
/// <remarks>
/// One object per in-flight task: its worker's id, whether that worker is alive (its liveness key exists) and the
/// key's remaining time to live, and the task's name, format, arguments, named parameters and retry budget. A task
/// whose worker is gone is put back on the queue by the next sweep (Start-DelayedSweeper). For tasks held by this
/// module's workers, StartedAt and Running tell when the task was claimed; for Python and Go workers they are empty.
/// </remarks>
/// <example>
/// <code>Get-DelayedProcessing $queue</code>
/// <para>What is running now, and where.</para>
/// </example>
/// <example>
/// <code>Get-DelayedProcessing $queue | Where-Object { -not $_.WorkerAlive }</code>
/// <para>Tasks of dead workers, waiting for the sweeper.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DelayedProcessing")]
[OutputType(typeof(ProcessingTask))]
public sealed class GetDelayedProcessingCommand : DelayedCmdlet
{
    /// <summary>The queue to look at (a queue object, or a queue name on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    public Queue Queue { get; set; } = null!;

    protected override void ProcessRecord()
    {
        foreach (var entry in Await(Queue.Engine.GetInFlightAsync(), Queue.Name).OrderBy(e => e.StartedAt ?? DateTimeOffset.MaxValue))
            WriteObject(ToRecord(entry));
    }

    private ProcessingTask ToRecord(InFlightTask entry)
    {
        var started = entry.StartedAt?.UtcDateTime;
        try
        {
            var task = TaskDecoder.Decode(entry.Raw);
            var isGo = task.Format == Core.Codec.TaskFormat.Go;
            var arguments = isGo
                ? (task.HasPayload ? new[] { PlainDataConverter.FromPlain(task.Payload) } : Array.Empty<object?>())
                : task.Arguments.Select(PlainDataConverter.FromPlain).ToArray();
            return new ProcessingTask(Queue, entry.WorkerId, entry.WorkerAlive, entry.TimeToLive, started, task.Name,
                isGo ? TaskFormat.Go : TaskFormat.Python, arguments, PlainDataConverter.MapToOrdered(task.NamedArguments), task.Retry, entry.Raw.Length, null);
        }
        catch (MalformedTaskException e)
        {
            return new ProcessingTask(Queue, entry.WorkerId, entry.WorkerAlive, entry.TimeToLive, started, null, null,
                Array.Empty<object?>(), new OrderedDictionary(), 0, entry.Raw.Length, e.Message);
        }
    }
}
