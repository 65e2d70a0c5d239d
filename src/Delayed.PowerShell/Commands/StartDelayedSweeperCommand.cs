using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using Delayed.Core.Sweeper;
using Delayed.PowerShell.Handlers;
using Delayed.PowerShell.Hosting;

namespace Delayed.PowerShell.Commands;

/// <summary>Recovers tasks of dead workers and repairs token counts, once or at an interval.</summary>
/// <remarks>
/// A worker that dies without releasing its task (killed, crashed, lost its host) leaves the task in the queue's
/// in-flight hash. Once the worker's liveness key has expired, a sweep moves the task back to the tail of the
/// queue, so that another worker runs it again. A sweep also brings the number of notification tokens to the number
/// of waiting tasks. Each pass over a queue is atomic, and several sweepers may run at once. It recovers tasks of
/// Python and Go workers as well. Writes one record per queue and pass.
/// </remarks>
/// <example>
/// <code>Start-DelayedSweeper $queue -Once</code>
/// <para>One pass now.</para>
/// </example>
/// <example>
/// <code>Start-DelayedSweeper jobs, reports -Interval (New-TimeSpan -Seconds 30)</code>
/// <para>Sweeps two queues every 30 seconds until Ctrl+C.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "DelayedSweeper")]
[OutputType(typeof(SweepResult))]
public sealed class StartDelayedSweeperCommand : DelayedCmdlet
{
    private readonly List<Queue> _queues = new();

    /// <summary>The queues to sweep (queue objects, or names on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    public Queue[] Queue { get; set; } = Array.Empty<Queue>();

    /// <summary>Time between passes. Default 60 seconds.</summary>
    [Parameter]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Makes one pass and returns.</summary>
    [Parameter]
    public SwitchParameter Once { get; set; }

    protected override void ProcessRecord() => _queues.AddRange(Queue);

    protected override void EndProcessing()
    {
        if (Interval <= TimeSpan.Zero)
            ThrowTerminatingError(new ErrorRecord(new ArgumentOutOfRangeException(nameof(Interval), Interval, "The interval must be positive."), "InvalidInterval", ErrorCategory.InvalidArgument, Interval));
        var pump = new PipelinePump();
        var sweeper = new DelayedSweeper(_queues.Select(q => q.Engine).ToList(), Interval)
        {
            OnSwept = r => pump.Post(() => Write(new SweepResult(r.Queue, r.Recovered, r.TokenAdjustment))),
            OnError = (queue, e) => pump.Post(() => WriteFailure(queue, e)),
        };
        using (StopSignals.Register(StopProcessing))
        {
            var run = Once ? sweeper.SweepOnceAsync() : sweeper.RunAsync(StopToken);
            pump.Run(run);
            Await(run);
        }
    }

    private void Write(SweepResult result)
    {
        try
        {
            WriteObject(result);
        }
        catch (PipelineStoppedException)
        {
        }
    }

    private void WriteFailure(string queue, Exception e)
    {
        try
        {
            WriteError(new ErrorRecord(new InvalidOperationException($"Sweeping queue '{queue}' failed: {e.Message} The next pass tries again.", e),
                "SweepFailed", ErrorCategory.ConnectionError, queue));
        }
        catch (PipelineStoppedException)
        {
        }
    }
}
