using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using Delayed.Core.Worker;
using Delayed.PowerShell.Handlers;
using Delayed.PowerShell.Hosting;

namespace Delayed.PowerShell.Commands;

/// <summary>Runs a worker in the foreground: takes tasks from a queue and runs their handlers.</summary>
/// <remarks>
/// Each task is dispatched by its exact name to a scriptblock of -Handler or to a handler registered with
/// Register-DelayedHandler. Any other name is refused with an error, and the task is released. Handlers run on
/// this pipeline's thread with $ErrorActionPreference = 'Stop'. A Python-shaped task's positional arguments bind
/// by position and its named map by parameter name, as splatting does; a Go-shaped task's payload goes whole to a
/// handler that declares one parameter, and an array payload is spread over several. A task whose arguments cannot
/// be bound is a bad call and is never retried; a failure inside the handler is retried while the task's retry
/// budget lasts. Failures are written as non-terminating errors that name the task; the worker goes on.
///
/// The worker stops gracefully, finishing and releasing its current task, on Ctrl+C, on SIGTERM or SIGHUP (when it
/// runs under pwsh -c or a service manager), after -MaxTasks tasks, or with -StopWhenEmpty as soon as the queue is
/// empty. It then writes a summary. Delivery is at least once: a task whose worker dies is run again after the
/// sweeper recovers it, so handlers should be idempotent.
/// </remarks>
/// <example>
/// <code>Start-DelayedWorker $queue -Handler @{ 'Restart-Site' = { param($Server) Restart-WebAppPool $Server } }</code>
/// <para>Runs tasks named Restart-Site until Ctrl+C.</para>
/// </example>
/// <example>
/// <code>pwsh -c 'Import-Module Delayed; . ./handlers.ps1; Start-DelayedWorker jobs -StopWhenEmpty'</code>
/// <para>From a scheduled job: drain the jobs queue with the handlers that handlers.ps1 registers, then exit.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "DelayedWorker")]
[OutputType(typeof(WorkerSummary), typeof(TaskResult))]
public sealed class StartDelayedWorkerCommand : DelayedCmdlet
{
    /// <summary>The queue to take tasks from (a queue object, or a queue name on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    public Queue Queue { get; set; } = null!;

    /// <summary>Task names mapped to scriptblocks (or command names) that handle them, in addition to the registered handlers.</summary>
    [Parameter]
    public IDictionary? Handler { get; set; }

    /// <summary>Stops as soon as no task is waiting, instead of waiting for more. For scheduled jobs.</summary>
    [Parameter]
    public SwitchParameter StopWhenEmpty { get; set; }

    /// <summary>Stops after this many tasks.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxTasks { get; set; }

    /// <summary>Also writes one record per task: name, worker id, status, duration, error.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var pump = new PipelinePump();
        WorkerHandlerRegistry registry;
        try
        {
            registry = WorkerHandlerRegistry.Build(Handler, SessionHandlers.Current.Values.ToList(), pump, InvokeCommand);
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidHandler", ErrorCategory.InvalidArgument, Handler));
            return;
        }
        if (registry.Count == 0)
            WriteWarning("No handler is registered: every task will be refused and released. Pass -Handler or use Register-DelayedHandler first.");

        var options = new WorkerOptions
        {
            DequeueTimeout = Queue.DequeueTimeout,
            KeepAliveTimeout = Queue.KeepAliveTimeout,
            KeepAliveInterval = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(15).Ticks, Queue.KeepAliveTimeout.Ticks / 4)),
            MaxTasks = MaxTasks,
            StopWhenEmpty = StopWhenEmpty,
            OnEvent = e => pump.Post(() => Report(e)),
        };
        var worker = new DelayedWorker(Queue.Engine, registry, options);
        WriteVerbose($"Worker on queue '{Queue.Name}' at {Queue.Redis} with {registry.Count} handler(s).");
        using (StopSignals.Register(StopRequested))
        {
            var run = worker.RunAsync(StopToken);
            pump.Run(run);
            var summary = Await(run, Queue.Name);
            WriteObject(new WorkerSummary(Queue.Name, worker.WorkerIds.ToArray(), summary.Succeeded, summary.Failed, summary.Retried, summary.Dropped, summary.Duration));
        }
    }

    private void StopRequested() => StopProcessing();

    /// <summary>Runs on the pipeline thread. After Ctrl+C the pipeline refuses output; the worker still finishes.</summary>
    private void Report(WorkerEvent e)
    {
        try
        {
            var name = e.Task?.Name;
            switch (e.Kind)
            {
                case WorkerEventKind.TaskStarted:
                    WriteVerbose($"Started task '{name}' on worker {e.WorkerId}.");
                    return;
                case WorkerEventKind.TaskSucceeded:
                    WriteVerbose($"Task '{name}' succeeded in {e.Duration.TotalMilliseconds:0.#} ms.");
                    break;
                case WorkerEventKind.TaskRetried:
                    WriteWarning(e.Error is OperationCanceledException
                        ? $"Task '{name}' was interrupted by the stop and put back on the queue."
                        : $"Task '{name}' failed and was re-enqueued (retry budget left: {RetryLeft(e)}): {e.Error?.Message}");
                    break;
                case WorkerEventKind.TaskFailed:
                case WorkerEventKind.TaskDropped:
                    WriteError(TaskError(e));
                    break;
                case WorkerEventKind.WorkerError:
                    WriteWarning($"Redis error on worker {e.WorkerId}: {e.Error?.Message} Retrying in {e.Duration.TotalSeconds:0.#} s.");
                    return;
            }
            if (PassThru) WriteObject(new TaskResult(e.Queue, name, e.WorkerId, Status(e.Kind), e.Duration, e.Error?.Message));
        }
        catch (PipelineStoppedException)
        {
        }
    }

    private static string RetryLeft(WorkerEvent e) => e.Task!.Retry < 0 ? "unlimited" : (e.Task.Retry - 1).ToString();

    private static TaskStatus Status(WorkerEventKind kind) => kind switch
    {
        WorkerEventKind.TaskSucceeded => TaskStatus.Succeeded,
        WorkerEventKind.TaskRetried => TaskStatus.Retried,
        WorkerEventKind.TaskDropped => TaskStatus.Dropped,
        _ => TaskStatus.Failed,
    };

    private static ErrorRecord TaskError(WorkerEvent e)
    {
        var name = e.Task?.Name;
        var (message, id, category) = e.Error switch
        {
            UnknownTaskException unknown => (unknown.Message, "UnknownTask", ErrorCategory.ObjectNotFound),
            Core.Codec.MalformedTaskException malformed => ($"A task that cannot be decoded was dropped ({e.RawTask.Length} bytes): {malformed.Message}", "MalformedTask", ErrorCategory.InvalidData),
            TaskBindingException binding => ($"Task '{name}' is a bad call and was not run: {binding.Message}", "TaskBindingFailed", ErrorCategory.InvalidArgument),
            _ => ($"Task '{name}' failed: {e.Error?.Message}", "TaskFailed", ErrorCategory.OperationStopped),
        };
        return new ErrorRecord(new InvalidOperationException(message, e.Error), id, category, name);
    }
}
