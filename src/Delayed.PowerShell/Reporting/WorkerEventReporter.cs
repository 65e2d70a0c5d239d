using System;
using System.Collections.Generic;
using System.Management.Automation;
using Delayed.Core.Redis;
using Delayed.Core.Queue;
using Delayed.Core.Worker;
using Delayed.PowerShell.Conversion;

namespace Delayed.PowerShell.Reporting;

/// <summary>
/// Turns worker events into what users see: verbose and warning messages, error records that name the task,
/// per-task records (-PassThru) and the summary; or, with -LogFormat Json, one JSON line per event.
/// </summary>
internal sealed class WorkerEventReporter
{
    private readonly IWorkerOutput _output;
    private readonly bool _passThru;
    private readonly LogFormat _format;
    private readonly bool _verbose;
    private readonly Outage _outage = new();
    private readonly RepeatedFailures _repeated = new();

    /// <param name="output">Where to write.</param>
    /// <param name="passThru">Whether to write one record per task.</param>
    /// <param name="format">Streams or JSON lines.</param>
    /// <param name="verbose">Whether verbose messages would be shown; when not, events that only produce them cost nothing.</param>
    public WorkerEventReporter(IWorkerOutput output, bool passThru, LogFormat format, bool verbose = true)
    {
        _output = output;
        _passThru = passThru;
        _format = format;
        _verbose = verbose;
    }

    public void Report(WorkerEvent e)
    {
        // Started and succeeded tasks are only verbose messages (and -PassThru records): skip them when unseen.
        if (_format == LogFormat.Default && !_verbose && (e.Kind == WorkerEventKind.TaskStarted || (e.Kind == WorkerEventKind.TaskSucceeded && e.Error is null && !_passThru)))
            return;
        if (_format == LogFormat.Json)
        {
            _output.Object(JsonLine.Of(Fields(e)));
            return;
        }
        var name = e.TaskName;
        switch (e.Kind)
        {
            case WorkerEventKind.TaskStarted:
                _output.Verbose($"Started task '{name}' on worker {e.WorkerId}.");
                return;
            case WorkerEventKind.TaskSucceeded:
                if (e.Error is not null) _output.Warning($"Task '{name}' succeeded in {e.Duration.TotalMilliseconds:0.#} ms, but: {e.Error.Message}");
                else _output.Verbose($"Task '{name}' succeeded in {e.Duration.TotalMilliseconds:0.#} ms.");
                break;
            case WorkerEventKind.TaskRetried:
                _output.Warning($"Task '{name}' failed on attempt {e.Attempt} and runs again {When(e.RetryIn)} (retry budget left: {RetryLeft(e)}): {e.Error?.Message}");
                break;
            case WorkerEventKind.TaskReturned:
                // Warned once per name (the event carries the error only the first time), then verbose.
                if (e.Error is not null) _output.Warning(e.Error.Message);
                else _output.Verbose($"Task '{name}' has no handler here: put back, runnable again {When(e.RetryIn)}.");
                break;
            case WorkerEventKind.TaskInterrupted:
                _output.Warning($"Task '{name}' was interrupted by the stop and put back on the queue unchanged.");
                break;
            case WorkerEventKind.TaskStopped:
                _output.Warning($"Task '{name}' was stopped by its caller (Stop-Job) after {e.Duration.TotalMilliseconds:0.#} ms: not retried, not kept as a failure.");
                break;
            case WorkerEventKind.TaskFailed:
                _output.Error(TaskError(e));
                break;
            case WorkerEventKind.QueuePaused:
                _output.Warning($"Queue '{e.Queue}' is paused: the worker takes no task until Resume-DelayedQueue (Get-DelayedQueue says since when and why).");
                return;
            case WorkerEventKind.QueueResumed:
                _output.Verbose($"Queue '{e.Queue}' was resumed: the worker takes tasks again.");
                return;
            case WorkerEventKind.WorkerError:
                var what = e.Error is not null && Failures.Classify(e.Error) is FailureKind.Unavailable or FailureKind.ServerError or FailureKind.Unreachable
                    ? $"Redis error on worker {e.WorkerId}"
                    : $"Worker {e.WorkerId}";
                var retry = e.Duration > TimeSpan.Zero ? $" Retrying in {e.Duration.TotalSeconds:0.#} s." : "";
                // Every slot, the keep-alive loop and the promotion fail while Redis does not answer: one warning says it.
                if (e.Error is not null && Failures.OutOfMemoryRefusal(e.Error) is not null)
                {
                    if (TransientFailure.TryReport(_output, $"Redis is full and refuses worker {e.WorkerId}", e.Error,
                            " It retries with back-off, and says when Redis takes it again: make room, or raise maxmemory.", _outage, retry)) return;
                }
                else if (e.Error is not null && TransientFailure.TryReport(_output, $"Redis does not answer worker {e.WorkerId}", e.Error,
                        " It retries with back-off, and says when Redis answers again.", _outage, retry)) return;
                // A loop's failure without a back-off (the promotion tries each second): said when it begins and once a minute.
                if (e.Activity is { } doing && e.Error is not null)
                {
                    what += " while " + doing;
                    var (say, lasting) = _repeated.Failed($"{e.WorkerId}\n{e.Activity}\n{e.Error.Message}");
                    if (!say)
                    {
                        _output.Verbose($"{what}: {e.Error.Message}");
                        return;
                    }
                    if (lasting > TimeSpan.Zero) retry = $" (For {lasting.TotalSeconds:0} s now.)";
                }
                _output.Warning($"{what}: {e.Error?.Message}{retry}");
                return;
            case WorkerEventKind.WorkerRecovered:
                _repeated.EndedAll($"{e.WorkerId}\n{e.Activity}\n");
                TransientFailure.ReportRecovered(_output, _outage, $"worker {e.WorkerId}", e.Duration);
                return;
        }
        if (_passThru)
        {
            var view = e.Task is { } task ? TaskView.Of(task) : TaskView.Of(e.RawTask.ToArray());
            _output.Object(new TaskResult(e.Queue, view, e.WorkerId, Status(e.Kind), e.Duration, e.Error?.Message, e.Reason?.ToString(), e.Attempt));
        }
    }

    /// <summary>
    /// A record a handler wrote (warning, error, verbose, debug, information) goes to the worker's stream of the same
    /// kind, or becomes one JSON line naming the task and worker. Output objects are the task's result, not a log: dropped.
    /// </summary>
    public void HandlerRecord(TaskContext context, object? item)
    {
        if (_format == LogFormat.Json)
        {
            if (HandlerLine(item) is not ({ } stream, { } level, var message)) return;
            _output.Object(JsonLine.Of(new Dictionary<string, object?>
            {
                ["time"] = DateTime.UtcNow, ["level"] = level, ["event"] = "HandlerRecord", ["stream"] = stream, ["queue"] = context.Queue,
                ["worker"] = context.WorkerId, ["task"] = context.Task.Name, ["attempt"] = context.Attempt, ["message"] = message,
            }));
            return;
        }
        switch (item)
        {
            case WarningRecord warning: _output.Warning(warning.Message); break;
            case VerboseRecord verbose: _output.Verbose(verbose.Message); break;
            case DebugRecord debug: _output.Debug(debug.Message); break;
            case InformationRecord information: _output.Information(information); break;
            case ErrorRecord error: _output.Error(error); break;
        }
    }

    private static (string? Stream, string? Level, string? Message) HandlerLine(object? item) => item switch
    {
        WarningRecord warning => ("warning", "warning", warning.Message),
        VerboseRecord verbose => ("verbose", "debug", verbose.Message),
        DebugRecord debug => ("debug", "debug", debug.Message),
        InformationRecord information => (information.Tags.Contains("PSHOST") ? "host" : "information", "info", information.MessageData?.ToString()),
        ErrorRecord error => ("error", "error", error.ToString()),
        _ => (null, null, null),
    };

    public void Summary(WorkerSummary summary)
    {
        if (_format != LogFormat.Json)
        {
            _output.Object(summary);
            return;
        }
        _output.Object(JsonLine.Of(new Dictionary<string, object?>
        {
            ["time"] = DateTime.UtcNow, ["level"] = "info", ["event"] = "WorkerStopped", ["queue"] = summary.Queue,
            ["processed"] = summary.Processed, ["succeeded"] = summary.Succeeded, ["failed"] = summary.Failed,
            ["retried"] = summary.Retried, ["returned"] = summary.Returned, ["durationMs"] = summary.Duration.TotalMilliseconds,
        }));
    }

    private static Dictionary<string, object?> Fields(WorkerEvent e) => new()
    {
        ["time"] = e.Timestamp,
        ["level"] = e.Kind switch
        {
            WorkerEventKind.TaskFailed => "error",
            WorkerEventKind.TaskRetried or WorkerEventKind.TaskInterrupted or WorkerEventKind.TaskReturned or WorkerEventKind.TaskStopped
                or WorkerEventKind.WorkerError or WorkerEventKind.QueuePaused => "warning",
            WorkerEventKind.TaskSucceeded when e.Error is not null => "warning",
            _ => "info",
        },
        ["event"] = e.Kind.ToString(),
        ["queue"] = e.Queue,
        ["worker"] = e.WorkerId,
        ["activity"] = e.Activity,
        ["task"] = e.TaskName,
        // Which server, which file: a log line names the task's data, not only that a task of that name failed.
        ["args"] = e.Task is { Arguments.Count: > 0 } python ? python.Arguments : null,
        ["parameters"] = e.Task is { NamedArguments.Count: > 0 } named ? named.NamedArguments : null,
        ["payload"] = e.Task is { HasPayload: true } go ? go.Payload ?? "null" : null,
        ["reason"] = e.Reason?.ToString(),
        ["attempt"] = e.Attempt == 0 ? null : e.Attempt,
        ["retryInMs"] = e.RetryIn?.TotalMilliseconds,
        ["format"] = e.Task?.Format.ToString(),
        ["durationMs"] = e.Kind == WorkerEventKind.TaskStarted ? null : e.Duration.TotalMilliseconds,
        ["error"] = e.Error?.Message,
        ["bytes"] = e.Task is null && !e.RawTask.IsEmpty ? (object)e.RawTask.Length : null,
    };

    private static string When(TimeSpan? wait) => wait is { } w && w > TimeSpan.Zero ? $"in {w.TotalSeconds:0.#} s" : "at once";

    private static string RetryLeft(WorkerEvent e) => e.Task!.Retry < 0 ? "unlimited" : (e.Task.Retry - 1).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static TaskOutcome Status(WorkerEventKind kind) => kind switch
    {
        WorkerEventKind.TaskSucceeded => TaskOutcome.Succeeded,
        WorkerEventKind.TaskRetried or WorkerEventKind.TaskInterrupted => TaskOutcome.Retried,
        WorkerEventKind.TaskReturned => TaskOutcome.Returned,
        WorkerEventKind.TaskStopped => TaskOutcome.Stopped,
        _ => TaskOutcome.Failed,
    };

    private static ErrorRecord TaskError(WorkerEvent e)
    {
        var name = e.TaskName;
        var kept = " It is kept in the failed store: Get-DelayedTask <queue> -Failed shows it, Restore-DelayedTask puts it back.";
        var (message, id, category) = e.Reason switch
        {
            FailureReason.NoHandler => (e.Error?.Message ?? "", "NoHandler", ErrorCategory.ObjectNotFound),
            FailureReason.Malformed => ($"A task that cannot be decoded ({e.RawTask.Length} bytes) failed: {Sentence(e.Error?.Message)}{kept}", "MalformedTask", ErrorCategory.InvalidData),
            FailureReason.Oversize => ($"{Sentence(e.Error?.Message)}{kept}", "OversizeTask", ErrorCategory.LimitsExceeded),
            FailureReason.BadCall => ($"Task '{name}' is a bad call and was not run: {Sentence(e.Error?.Message)}{kept}", "TaskBindingFailed", ErrorCategory.InvalidArgument),
            FailureReason.TimedOut => ($"Task '{name}' ran past its timeout and was stopped (attempt {e.Attempt}).{kept}", "TaskTimedOut", ErrorCategory.OperationTimeout),
            _ => ($"Task '{name}' failed (attempt {e.Attempt}): {Sentence(e.Error?.Message)}{kept}", "TaskFailed", ErrorCategory.OperationStopped),
        };
        return new ErrorRecord(new InvalidOperationException(message, e.Error), id, category, name);
    }

    /// <summary>A handler's message as a sentence, so that what follows it does not run on from its last word.</summary>
    private static string Sentence(string? message)
    {
        var text = (message ?? "").TrimEnd();
        return text.Length == 0 || text[text.Length - 1] is '.' or '!' or '?' ? text : text + ".";
    }
}
