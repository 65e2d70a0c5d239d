using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Sweeper;
using Delayed.PowerShell.Parameters;
using Delayed.PowerShell.Reporting;

namespace Delayed.PowerShell.Commands;

/// <summary>Recovers tasks of dead workers and repairs token counts, once or at an interval.</summary>
/// <remarks>
/// A worker that dies without releasing its task (killed, crashed, lost its host) leaves the task in the queue's
/// in-flight hash. Once the worker's liveness key has expired, a sweep moves the task back to the tail of the
/// queue, so that another worker runs it again. A sweep also brings the number of notification tokens to the number
/// of waiting tasks. Each pass over a queue is atomic, and several sweepers may run at once. It recovers tasks of
/// Python and Go workers as well. Writes one record per queue and pass. A task whose workers died while running it
/// more than 3 times (it crashes or kills its worker) is not put back again but moved to the failed store as
/// WorkerLost. While it runs, the sweeper also moves due scheduled tasks (Add-DelayedTask -Delay, retries waiting out
/// their back-off) to their queue as they fall due, and fires due recurring runs: a queue served only by Python or Go workers needs one for that.
/// Each pass also looks through a part of the records of tracked tasks (Add-DelayedTask -AsJob) for those that a Python or
/// Go worker took, or that a Python or Go sweeper recovered, and ends or requeues them (the record's TakenUntracked
/// count): that look needs Redis 6.0.6 or later and, under an ACL, HSCAN and LPOS; without them it is skipped with a warning.
/// </remarks>
/// <example>
/// <code>Start-DelayedSweeper $queue -Once</code>
/// <para>One pass now.</para>
/// </example>
/// <example>
/// <code>Start-DelayedSweeper jobs, reports -Interval (New-TimeSpan -Seconds 30)</code>
/// <para>Sweeps two queues every 30 seconds until Ctrl+C.</para>
/// </example>
/// <example>
/// <code>$sweeper = Start-DelayedSweeper $queue -AsJob; Receive-Job $sweeper; Stop-Job $sweeper</code>
/// <para>Sweeps in the background of this session.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "DelayedSweeper", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(SweepResult), typeof(Job))]
public sealed class StartDelayedSweeperCommand : MetricsServingCmdlet
{
    private readonly List<Queue> _queues = new();

    /// <summary>The queues to sweep (queue objects, or names on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue[] Queue { get; set; } = Array.Empty<Queue>();

    /// <summary>Time between passes. Default 60 seconds.</summary>
    [Parameter]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Makes one pass and returns. What it could not do is an error, with the id any cmdlet gives that failure
    /// (RedisUnavailable when Redis does not answer, RedisRefused while it refuses for a while), so that a script or
    /// scheduled task sees it; a sweeper that runs on rides such failures out with warnings instead.
    /// </summary>
    [Parameter]
    public SwitchParameter Once { get; set; }

    /// <summary>Runs the sweeper as a background job of this session and returns the job.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }


    protected override void ProcessRecord() => _queues.AddRange(Queue);

    protected override void EndProcessing()
    {
        if (Interval <= TimeSpan.Zero)
            ThrowTerminatingError(new ErrorRecord(new ArgumentOutOfRangeException(nameof(Interval), Interval, "The interval must be positive."), "InvalidInterval", ErrorCategory.InvalidArgument, Interval));
        var once = Once.IsPresent;
        if (once && MetricsPort is not null)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("-MetricsPort serves metrics while the sweeper runs, and -Once returns after one pass: " +
                "leave out -Once, or write the queues' gauges to a file with Export-DelayedMetrics."), "MetricsWithOnce", ErrorCategory.InvalidArgument, MetricsPort));
        // Get-DelayedQueue shows beforehand what a sweep would change: the tasks of gone workers, and the drift.
        var action = once ? "Recover the tasks of gone workers and repair the token count, once" : $"Recover the tasks of gone workers and repair the token count, every {Interval}";
        var queues = _queues.Where(q => ShouldProcess($"Queue '{q.Name}' on {q.Redis}", action)).Select(q => q.Engine).ToList();
        if (queues.Count == 0) return;
        var metrics = once ? null : StartMetrics(queues);
        async Task RunAsync(IWorkerOutput output, CancellationToken stop)
        {
            var outage = new Outage();
            var repeated = new RepeatedFailures();
            var sweeper = new DelayedSweeper(queues, Interval)
            {
                OnSwept = r =>
                {
                    if (r.Skipped > 0)
                        output.Warning($"Queue '{r.Queue}': {r.Skipped} in-flight task(s) are held under worker ids outside the queue's cluster slot " +
                            "(Python or Go workers?), which a sweep cannot check: they were left as they are. Run workers whose ids start with the queue's hash tag.");
                    if (r.UntrackedLookError is { } why)
                        output.Warning($"Queue '{r.Queue}': swept as usual, but the sweep could not look for tracked tasks (Add-DelayedTask -AsJob) that " +
                            $"Python or Go workers took, whose records then stay as they are. That look needs Redis 6.0.6 or later, and HSCAN and LPOS for " +
                            $"the sweeper's Redis account (see examples/delayed.acl in the module's folder). Redis said: {why}");
                    output.Object(new SweepResult(r.Queue, r.Recovered, r.TokenAdjustment, r.Lost, r.Skipped, r.TakenUntracked));
                },
                OnRecovered = (queue, step, lasted) =>
                {
                    repeated.Ended(queue + "\n" + step);
                    TransientFailure.ReportRecovered(output, outage, $"the sweeper of queue '{queue}'", lasted);
                },
                OnError = (queue, step, e) =>
                {
                    var what = step == SweeperStep.Promotion ? $"Moving due scheduled tasks to queue '{queue}' failed" : $"Sweeping queue '{queue}' failed";
                    if (once)
                    {
                        // One pass, and what failed of it is not done: an error, with the id any cmdlet gives that failure
                        // (RedisUnavailable, RedisRefused, ...). Redis out of reach is said once, however many steps it failed.
                        if (TransientFailure.IsTransient(e) && outage.Failed(DateTime.UtcNow).Say == Outage.Say.Nothing)
                        {
                            output.Verbose($"{what}: {e.Message}");
                            return;
                        }
                        var record = ToErrorRecord(e, queue) ?? new ErrorRecord(e, step == SweeperStep.Promotion ? "PromotionFailed" : "SweepFailed", ErrorCategory.InvalidOperation, queue);
                        record.ErrorDetails = new ErrorDetails($"{what}: {record.ErrorDetails?.Message ?? record.Exception.Message}");
                        output.Error(record);
                        return;
                    }
                    var then = step == SweeperStep.Promotion ? " It tries again in a second." : " The next pass tries again.";
                    // Redis out of reach is what a sweeper rides out: a warning; anything else is an error to look at, said
                    // when it begins and once a minute while it lasts (the promotion tries again every second).
                    if (TransientFailure.TryReport(output, what, e, then, outage)) return;
                    var (say, lasting) = repeated.Failed(queue + "\n" + step);
                    if (!say)
                    {
                        output.Verbose($"{what}: {e.Message}");
                        return;
                    }
                    var message = $"{what}{(lasting > TimeSpan.Zero ? $", for {lasting.TotalSeconds:0} s now" : "")}: {e.Message}{then}";
                    output.Error(new ErrorRecord(new InvalidOperationException(message, e),
                        step == SweeperStep.Promotion ? "PromotionFailed" : "SweepFailed", ErrorCategory.ConnectionError, queue));
                },
            };
            try
            {
                await (once ? sweeper.SweepOnceAsync() : sweeper.RunAsync(stop)).ConfigureAwait(false);
            }
            finally
            {
                metrics?.Dispose();
            }
        }

        // Said once, at the start: a sweeper writes nothing else until its first pass.
        var start = once ? null : $"Sweeping {string.Join(", ", queues.Select(q => q.Name))} every {Interval} (first pass now), and moving due scheduled " +
                                  "tasks to their queues as they fall due. Press Ctrl+C (or send SIGTERM) to stop.";
        RunAsJobOrHere(AsJob, "Start-DelayedSweeper", _queues, "DelayedSweeper:" + string.Join(",", queues.Select(q => q.Name)), RunAsync, start);
    }
}
