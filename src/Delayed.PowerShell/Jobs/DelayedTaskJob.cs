using System;
using System.Management.Automation;
using System.Threading.Tasks;
using Delayed.Core.Queue;
using Delayed.PowerShell.Conversion;

namespace Delayed.PowerShell.Jobs;

/// <summary>
/// A tracked task as a PowerShell job, wherever it runs: NotStarted while it waits (queued or scheduled), Running while
/// a worker of this module runs it, then Completed, Failed (with its error) or Stopped. Receive-Job returns what its
/// handler wrote to its output (deserialized, as a remote job's) and writes its errors, warnings, verbose, debug and
/// information records to the caller's streams. A task taken by a worker that keeps no records (Python, Go) ends
/// Disconnected: its outcome is not known, and the job does not guess it. Stop-Job stops a task that has not started.
/// </summary>
internal sealed class DelayedTaskJob : Job
{
    private readonly TrackedTaskMonitor _monitor;
    private volatile string _status;

    public DelayedTaskJob(Queue queue, string trackingId, string taskName, bool scheduled = false)
        : base($"Add-DelayedTask {queue} {taskName}", taskName)
    {
        _status = scheduled ? "Scheduled" : "Queued";
        LastSeen = scheduled ? TrackedState.Scheduled : TrackedState.Queued;
        Queue = queue;
        TrackingId = trackingId;
        TaskName = taskName;
        PSJobTypeName = "DelayedTaskJob";
        _monitor = TrackedTaskMonitor.For(queue.Engine);
    }

    public Queue Queue { get; }

    /// <summary>The task's id on its queue: Get-DelayedTask -Id finds it from any session.</summary>
    public string TrackingId { get; }

    public string TaskName { get; }

    /// <summary>The worker that runs or ran it, when known.</summary>
    public string? WorkerId { get; private set; }

    /// <summary>When its worker took it (while it runs: the claim; once it ended: when its last run began).</summary>
    public DateTimeOffset? StartedAt { get; private set; }

    public DateTimeOffset? EndedAt { get; private set; }

    /// <summary>The state its record had at the last read (the monitor looks for queued tasks a Python or Go worker took).</summary>
    internal TrackedState LastSeen { get; private set; }

    public override bool HasMoreData =>
        Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Debug.Count > 0 || Information.Count > 0;

    public override string Location => Queue.ToString();

    public override string StatusMessage => _status;

    /// <summary>Starts following the task's record.</summary>
    public void Track() => _monitor.Follow(this);

    /// <summary>
    /// Stops the task: one that has not started leaves the queue or the schedule and will not run; a running one is
    /// stopped by its worker at its next keep-alive (within a quarter of the queue's keep-alive timeout, at most
    /// 15 s), not retried. The job is Stopping until then. A foreground scriptblock handler cannot be stopped from
    /// outside: it runs to its end, and the job ends as the task did.
    /// </summary>
    public override void StopJob()
    {
        if (IsFinished) return;
        var outcome = Task.Run(() => Queue.Engine.CancelTrackedAsync(TrackingId, "Stop-Job")).GetAwaiter().GetResult();
        if (outcome == CancelOutcome.Running)
        {
            _status = $"Stopping: worker {WorkerId} stops it at its next keep-alive";
            SetJobState(JobState.Stopping);
            return;
        }
        // The record now says how it ended; the monitor reads it with the rest.
        _monitor.Refresh(this).GetAwaiter().GetResult();
    }

    /// <summary>Follows a change of the record (from the monitor's thread).</summary>
    internal void Observe(TrackedTask record)
    {
        LastSeen = record.State;
        switch (record.State)
        {
            case TrackedState.Queued:
                _status = "Queued";
                break;
            case TrackedState.Scheduled:
                _status = $"Scheduled for {record.DueAt?.ToLocalTime():yyyy-MM-dd HH:mm:ss}";
                break;
            case TrackedState.Running:
                WorkerId = record.WorkerId;
                StartedAt = record.StartedAt;
                _status = $"Running on worker {record.WorkerId}";
                if (JobStateInfo.State == JobState.NotStarted)
                {
                    SetJobState(JobState.Running);
                    // When the worker took it (its first run, if it is retried), rather than when this session noticed.
                    if (StartedAt is { } started) PSBeginTime = started.LocalDateTime;
                }
                else if (JobStateInfo.State == JobState.Stopping) _status = $"Stopping: worker {WorkerId} stops it at its next keep-alive";
                break;
        }
    }

    /// <summary>Takes the ended task's record, with its output: fills the streams, then sets the final state.</summary>
    internal void End(TrackedTask record)
    {
        if (IsFinished) return;
        EndedAt = record.EndedAt;
        WorkerId = record.WorkerId ?? WorkerId;
        StartedAt = record.StartedAt ?? StartedAt;
        // Seen running, it began then (its first run, when it was retried); otherwise its one run began before it ended.
        if (PSBeginTime is null && StartedAt is { } started) PSBeginTime = started.LocalDateTime;
        foreach (var (kind, value) in TaskOutput.Read(record.Output ?? Array.Empty<byte>()))
        {
            var text = value as string ?? "";
            switch (kind)
            {
                case 'o': Output.Add(PSObject.AsPSObject(value ?? "")); break;
                case 'e': Error.Add(new ErrorRecord(new RuntimeException(text), "TaskError", ErrorCategory.NotSpecified, TaskName)); break;
                case 'w': Warning.Add(new WarningRecord(text)); break;
                case 'v': Verbose.Add(new VerboseRecord(text)); break;
                case 'd': Debug.Add(new DebugRecord(text)); break;
                case 'i': Information.Add(new InformationRecord(text, TaskName)); break;
                case 'h':
                    var host = new InformationRecord(new HostInformationMessage { Message = text }, TaskName);
                    host.Tags.Add("PSHOST");
                    Information.Add(host);
                    break;
                default: Warning.Add(new WarningRecord(text)); break;
            }
        }
        switch (record.State)
        {
            case TrackedState.Completed:
                _status = $"Completed in {record.Duration?.TotalMilliseconds:0.#} ms (attempt {record.Attempt})";
                SetJobState(JobState.Completed);
                break;
            case TrackedState.Failed:
                _status = $"Failed ({record.Reason}, attempt {record.Attempt}): {record.Error}";
                var failure = new InvalidOperationException($"Task '{TaskName}' failed ({record.Reason}, attempt {record.Attempt}): {record.Error}");
                Error.Add(new ErrorRecord(failure, "Task" + record.Reason, ErrorCategory.OperationStopped, TaskName));
                SetJobState(JobState.Failed);
                break;
            case TrackedState.Stopped:
                _status = record.Duration is { } ran ? $"Stopped after it ran {ran.TotalMilliseconds:0.#} ms ({record.Reason})" : $"Stopped before it ran ({record.Reason})";
                SetJobState(JobState.Stopped);
                break;
            case TrackedState.TakenUntracked:
                _status = "Taken by a worker that keeps no records (Python or Go): its outcome is not known";
                Warning.Add(new WarningRecord($"Task '{TaskName}' ({TrackingId}) was taken by a worker that keeps no records (a Python or Go worker): its outcome is not known."));
                SetJobState(JobState.Disconnected);
                break;
            default:
                _status = record.Error ?? "Its record is gone: kept past its time, or the queue was cleared";
                var gone = new InvalidOperationException($"Task '{TaskName}' ({TrackingId}): {_status}.");
                Error.Add(new ErrorRecord(gone, "TrackedTaskUnknown", ErrorCategory.ObjectNotFound, TrackingId));
                SetJobState(JobState.Failed);
                break;
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _monitor.Forget(this);
        base.Dispose(disposing);
    }

    /// <summary>Says that the record cannot be read now (Redis unreachable); the job keeps following it.</summary>
    internal void Unreachable(Exception e) => _status = $"Cannot read its record now: {e.Message}";

    private bool IsFinished => JobStateInfo.State is JobState.Completed or JobState.Failed or JobState.Stopped or JobState.Disconnected;
}
