using System;
using System.Linq;
using System.Management.Automation.Host;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Telemetry;
using Delayed.Core.Worker;
using Delayed.PowerShell.Handlers;
using Delayed.PowerShell.Reporting;

namespace Delayed.PowerShell.Commands;

/// <summary>
/// One Start-DelayedWorker run, whatever mode runs it (the foreground or a job): the worker, the runspaces of its
/// handlers and its metrics endpoint, all released in one place when the run ends.
/// </summary>
/// <remarks>
/// Which thread runs what:
/// <list type="table">
/// <item><term>Foreground, handlers on the pipeline</term><description>The pipeline thread pumps (PipelinePump): it runs
/// the scriptblock handlers and writes every record. The worker's keep-alive and promotion run on the thread pool; a slot
/// hands each task to the pipeline thread and continues there once it has run: while busy it makes its next claim on
/// the pipeline thread too (InlineClaims), so a busy foreground worker switches no thread per task.</description></item>
/// <item><term>Foreground, handlers in runspaces</term><description>Each slot runs its handler in its own runspace, on a
/// thread of its own: where its claim's reply came while busy (its direct connection's), its handler thread after a
/// wait; records are posted to the pipeline thread, which writes them.</description></item>
/// <item><term>-AsJob</term><description>As in runspaces; records go to the job's streams from any thread
/// (JobOutput), and Receive-Job reads them.</description></item>
/// </list>
/// .NET handlers run on their slot's thread in every mode.
/// </remarks>
internal sealed class WorkerRun : IDisposable
{
    private readonly DelayedWorker _worker;
    private readonly WorkerOptions _options;
    private readonly HandlerStreams _streams;
    private readonly HandlerRunspaces? _runspaces;
    private readonly MetricsEndpoint? _metrics;
    private readonly RunningTasks _running = new();
    private int _disposed;

    public WorkerRun(string queueName, DelayedWorker worker, WorkerOptions options, HandlerStreams streams, HandlerRunspaces? runspaces, MetricsEndpoint? metrics)
    {
        QueueName = queueName;
        _worker = worker;
        _options = options;
        _streams = streams;
        _runspaces = runspaces;
        _metrics = metrics;
    }

    /// <summary>The worker's queues, as its messages name them.</summary>
    public string QueueName { get; }

    /// <summary>Says what a stop waits for (the running tasks), and takes a further Ctrl+C to interrupt them.</summary>
    public StopNotice? Notice(PSHost host, bool afterCtrlC) => StopNotice.Show(host, $"Worker on queue '{QueueName}'", _running, _worker.InterruptRunning, afterCtrlC);

    /// <summary>Runs the worker until it stops, reporting through <paramref name="reporter"/>; then releases the run.</summary>
    public async Task RunAsync(WorkerEventReporter reporter, CancellationToken stop)
    {
        _options.OnEvent = e =>
        {
            _running.Observe(e);
            reporter.Report(e);
        };
        _streams.ConnectTo(reporter.HandlerRecord);
        try
        {
            var summary = await _worker.RunAsync(stop).ConfigureAwait(false);
            reporter.Summary(new WorkerSummary(QueueName, _worker.WorkerIds.ToArray(), summary.Succeeded, summary.Failed, summary.Retried, summary.Returned, summary.Duration));
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _runspaces?.Dispose();
        _metrics?.Dispose();
        _worker.Dispose();
    }
}
