using System;
using System.Collections.Specialized;
using Delayed.PowerShell.Conversion;

namespace Delayed;

/// <summary>One task run by Start-DelayedWorker -PassThru: which task (name and arguments), where, how it ended.</summary>
public sealed class TaskResult
{
    private readonly TaskView _view;

    internal TaskResult(string queue, TaskView view, string workerId, TaskOutcome status, TimeSpan duration, string? error, string? reason = null, long attempt = 0)
    {
        _view = view;
        Reason = reason;
        Attempt = attempt;
        Queue = queue;
        WorkerId = workerId;
        Status = status;
        Duration = duration;
        Error = error;
    }

    public string Queue { get; }

    /// <summary>The task's name; empty when its bytes could not be decoded.</summary>
    public string? Name => _view.Name;

    /// <summary>Positional arguments; for a Go-shaped task, its payload as the only element.</summary>
    public object?[] ArgumentList => _view.ArgumentList;

    public OrderedDictionary Parameter => _view.Parameter;

    /// <summary>The arguments on one line, as the tables show them: positional ones, then parameters as Name=value.</summary>
    public string Arguments => _view.FormatArguments();

    public string WorkerId { get; }
    public TaskOutcome Status { get; }
    public TimeSpan Duration { get; }
    public string? Error { get; }

    /// <summary>Why a Failed task failed: Failed, BadCall, NoHandler, Malformed, TimedOut, Oversize.</summary>
    public string? Reason { get; }

    /// <summary>Which attempt of the task this was, from 1; 0 when no handler ran it.</summary>
    public long Attempt { get; }
}
