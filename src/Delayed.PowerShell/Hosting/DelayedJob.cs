using System;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;

namespace Delayed.PowerShell.Hosting;

/// <summary>
/// A worker or sweeper running in the background of this process, as a PowerShell job: Get-Job shows its
/// state, Receive-Job its records and errors, Stop-Job stops it gracefully (running tasks finish), Remove-Job
/// cleans up.
/// </summary>
internal sealed class DelayedJob : Job
{
    private readonly Func<IWorkerOutput, CancellationToken, Task> _run;
    private readonly CancellationTokenSource _stop = new();
    private Task? _running;

    public DelayedJob(string command, string name, Func<IWorkerOutput, CancellationToken, Task> run)
        : base(command, name)
    {
        _run = run;
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

    private static bool IsFinished(JobState state) =>
        state is JobState.Completed or JobState.Failed or JobState.Stopped;
}
