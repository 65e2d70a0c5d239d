using System.Management.Automation;
using Delayed.PowerShell.Parameters;

namespace Delayed.PowerShell.Commands;

/// <summary>Lifts a queue's pause: workers take tasks again, and scheduled and recurring tasks become due again.</summary>
/// <remarks>
/// Workers of this module notice within one dequeue timeout. Scheduled tasks that fell due during the pause are
/// promoted at once; recurring runs that fell in it follow their schedule's -MisfirePolicy (one catch-up run, or none).
/// Resuming a queue that is not paused changes nothing (-Verbose says so).
/// </remarks>
/// <example>
/// <code>Resume-DelayedQueue $queue</code>
/// <para>Lets the paused queue go on.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Resume, "DelayedQueue", SupportsShouldProcess = true)]
[OutputType(typeof(QueueInfo))]
public sealed class ResumeDelayedQueueCommand : DelayedCmdlet
{
    /// <summary>The queue to resume (a queue object, or a queue name on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    /// <summary>Writes the queue's state afterwards.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (!ShouldProcess($"Queue '{Queue.Name}' on {Queue.Redis}", "Resume: workers take tasks again")) return;
        if (!Await(Queue.Engine.ResumeAsync(), Queue.Name)) WriteVerbose($"Queue '{Queue.Name}' was not paused: nothing to resume.");
        if (PassThru) WriteObject(new QueueInfo(Queue, Await(Queue.Engine.GetStatusAsync(), Queue.Name)));
    }
}
