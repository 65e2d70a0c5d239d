using System;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using Delayed.Core.Telemetry;
using Delayed.PowerShell.Views;
using Delayed.PowerShell.Reporting;

namespace Delayed.PowerShell.Commands;

/// <summary>Shows queues live in the terminal, redrawn every second until Ctrl+C.</summary>
/// <remarks>
/// Per queue: tasks waiting, scheduled, running, stuck (running under a worker that is gone: the next sweep puts them
/// back), failed, live workers, tasks started per second over the last minute, how long the oldest waiting task has
/// waited, and whether the queue is paused; then the running tasks with their worker, host and running time, the stuck
/// ones first and in red, and the newest failures with their error. Laid out for 80 columns, drawn in place on the
/// terminal's alternate screen, which Ctrl+C leaves as it was. Where it cannot draw (output redirected to a file, piped
/// on to another command, or a host without a terminal) it writes one line per refresh instead. Without a queue it
/// watches every queue of the server (-Redis, else the default one), found by SCAN, never KEYS.
/// The rate counts tasks started by workers of this module (their claims are numbered); tasks taken by Python or Go
/// workers show in the counts but not in the rate. The oldest task's wait is observed while watching: exact for tasks
/// that arrived meanwhile, a lower bound for those already waiting. Watching reads each queue once per refresh and
/// changes nothing.
/// </remarks>
/// <example>
/// <code>Watch-DelayedQueue</code>
/// <para>Every queue of the default server, until Ctrl+C.</para>
/// </example>
/// <example>
/// <code>Watch-DelayedQueue jobs, reports -Interval (New-TimeSpan -Seconds 5)</code>
/// <para>Two queues, redrawn every five seconds.</para>
/// </example>
/// <example>
/// <code>Watch-DelayedQueue jobs -MaxSamples 60 | Add-Content ./jobs-watch.log</code>
/// <para>A minute of one-line summaries, appended to a log.</para>
/// </example>
[Cmdlet(VerbsCommon.Watch, "DelayedQueue")]
[OutputType(typeof(string))]
public sealed class WatchDelayedQueueCommand : QueuesOrServerCmdlet
{


    /// <summary>Time between refreshes. Default 1 second; at least 100 ms.</summary>
    [Parameter]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Stops after this many refreshes instead of at Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxSamples { get; set; }


    protected override void EndProcessing()
    {
        if (Interval < TimeSpan.FromMilliseconds(100))
            ThrowTerminatingError(new ErrorRecord(new ArgumentOutOfRangeException(nameof(Interval), Interval, $"The interval must be at least 100 ms; it was {Interval}."),
                "InvalidInterval", ErrorCategory.InvalidArgument, Interval) { ErrorDetails = new ErrorDetails($"The interval must be at least 100 ms; it was {Interval}.") });
        var queues = GivenOrAllQueues();
        var server = ServerName(queues);
        var samplers = queues.Select(q => new QueueSampler(q.Engine)).ToList();
        using var screen = LiveScreen.Open(Host, outputGoesOn: MyInvocation.PipelinePosition < MyInvocation.PipelineLength);
        for (var refresh = 1; !StopToken.IsCancellationRequested; refresh++)
        {
            var look = Task.WhenAll(samplers.Select(s => s.SampleAsync(detailed: true, newestFailed: screen is null ? 0 : 5)));
            // Ctrl+C is not kept waiting on Redis: an answer that comes later is dropped.
            try
            {
                look.Wait(StopToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (AggregateException)
            {
                // Await below turns the failure into an error that says what to do.
            }
            var samples = Await(look, server);
            if (screen is not null)
            {
                var (width, height) = screen.Size();
                screen.Draw(WatchFrame.Screen(server, samples, Interval, Math.Min(width, WatchFrame.Width), height));
            }
            else
            {
                WriteObject(WatchFrame.Summary(samples));
            }
            if (MaxSamples > 0 && refresh >= MaxSamples) break;
            StopToken.WaitHandle.WaitOne(Interval);
        }
    }
}
