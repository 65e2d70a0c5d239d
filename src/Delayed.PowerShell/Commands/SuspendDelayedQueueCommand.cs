using System.Management.Automation;
using Delayed.PowerShell.Parameters;

namespace Delayed.PowerShell.Commands;

/// <summary>Pauses a queue: this module's workers take no new task until Resume-DelayedQueue; enqueueing goes on.</summary>
/// <remarks>
/// Within one dequeue timeout every worker of this module stops taking tasks (a task it runs finishes and is released
/// as usual) and says once that the queue is paused. Scheduled tasks and recurring schedules wait too: nothing is
/// promoted or fired while paused, and a recurring run that fell in the pause follows its schedule's -MisfirePolicy when
/// the queue is resumed. Add-DelayedTask keeps working. Get-DelayedQueue shows Paused, PausedSince and PauseReason.
/// Pausing a paused queue keeps its first reason and time. Clear-DelayedQueue does not lift a pause.
/// Python and Go workers do not honour a pause: they go on taking tasks.
/// </remarks>
/// <example>
/// <code>Suspend-DelayedQueue $queue -Reason 'maintenance window until 06:00'</code>
/// <para>Holds the queue; Resume-DelayedQueue $queue lets it go on.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Suspend, "DelayedQueue", SupportsShouldProcess = true)]
[OutputType(typeof(QueueInfo))]
public sealed class SuspendDelayedQueueCommand : DelayedCmdlet
{
    /// <summary>The queue to pause (a queue object, or a queue name on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    /// <summary>Why, for whoever looks at the queue (Get-DelayedQueue shows it).</summary>
    [Parameter(Position = 1)]
    public string Reason { get; set; } = "";

    /// <summary>Writes the queue's state afterwards.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess($"Queue '{Queue.Name}' on {Queue.Redis}", "Pause: workers of this module take no new task until Resume-DelayedQueue")) return;
        if (!Await(Queue.Engine.PauseAsync(Reason), Queue.Name)) WriteVerbose($"Queue '{Queue.Name}' was paused already: its first reason and time are kept.");
        if (PassThru) WriteObject(new QueueInfo(Queue, Await(Queue.Engine.GetStatusAsync(), Queue.Name)));
    }
}
