using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Delayed.PowerShell.Reporting;

namespace Delayed.PowerShell.Jobs;

/// <summary>
/// A worker or sweeper running in the background of this process, as a PowerShell job: Get-Job shows its
/// state, Receive-Job its records and errors, Stop-Job stops it gracefully (running tasks finish, or go back to the
/// queue on a second Ctrl+C), Remove-Job
/// cleans up.
/// </summary>
internal sealed class DelayedJob : Job
{
    private readonly Func<IWorkerOutput, CancellationToken, Task> _run;
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<IDisposable?>? _whileStopping;
    private Task? _running;

    /// <param name="command">What runs, e.g. "Start-DelayedWorker": the job's Command shows it with its queues and servers.</param>
    /// <param name="queues">The queues it serves.</param>
    /// <param name="name">The job's name.</param>
    /// <param name="run">The work.</param>
    /// <param name="whileStopping">
    /// Called as Stop-Job begins to wait, e.g. to say what it waits for; what it returns is disposed when the job has stopped.
    /// </param>
    public DelayedJob(string command, IEnumerable<Queue> queues, string name, Func<IWorkerOutput, CancellationToken, Task> run, Func<IDisposable?>? whileStopping = null)
        : base(Describe(command, queues), name)
    {
        _run = run;
        _whileStopping = whileStopping;
        PSJobTypeName = "DelayedJob";
    }

    public override bool HasMoreData => Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0;

    public override string Location => Environment.MachineName;

    public override string StatusMessage => "";

    public void Start()
    {
        SetJobState(JobState.Running);
        _running = Task.Run(RunAsync);
    }

    public override void StopJob()
    {
        if (IsFinished(JobStateInfo.State)) return;
        SetJobState(JobState.Stopping);
        _stop.Cancel();
        using var notice = _whileStopping?.Invoke();
        _running?.GetAwaiter().GetResult();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Cancel();
            _running?.GetAwaiter().GetResult();
            _stop.Dispose();
        }
        base.Dispose(disposing);
    }

    private async Task RunAsync()
    {
        try
        {
            await _run(new JobOutput(this), _stop.Token).ConfigureAwait(false);
            SetJobState(_stop.IsCancellationRequested ? JobState.Stopped : JobState.Completed);
        }
        catch (Exception e)
        {
            Error.Add(new ErrorRecord(e, "DelayedJobFailed", ErrorCategory.OperationStopped, Name));
            SetJobState(JobState.Failed);
        }
    }

    /// <summary>
    /// The command as Get-Job shows it: never the typed command line, which may hold a password (a -Redis string in a
    /// nested New-DelayedQueue); the queues with their servers as queue objects show them, without secrets.
    /// </summary>
    private static string Describe(string command, IEnumerable<Queue> queues) =>
        command + " " + string.Join(", ", queues.Select(q => q.ToString()));

    private static bool IsFinished(JobState state) =>
        state is JobState.Completed or JobState.Failed or JobState.Stopped;
}
