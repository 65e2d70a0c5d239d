using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using Delayed.Core.Worker;
using Delayed.PowerShell.Conversion;
using Delayed.PowerShell.Handlers;
using Delayed.PowerShell.Hosting;
using Delayed.PowerShell.Parameters;
using Delayed.PowerShell.Jobs;
using Delayed.PowerShell.Reporting;

namespace Delayed.PowerShell.Commands;

/// <summary>Runs a worker: takes tasks from a queue and runs their handlers, in the foreground or as a job.</summary>
/// <remarks>
/// Each task is dispatched by its exact name to a scriptblock or command of -Handler, to a .NET handler of
/// -AssemblyPath, or to a handler registered with Register-DelayedHandler. A task whose name has no handler here is
/// put back (into the queue's schedule, waiting -RetryDelay, doubling, at most a minute) for a worker that has one,
/// with one warning per name; after 50 returns it fails with the reason NoHandler. Handlers run with
/// $ErrorActionPreference = 'Stop', and see $DelayedTask: the task's Name, Queue, WorkerId, Attempt (from 1) and Retry.
/// A handler ends with return (success) or throw (failure), never exit: exit fails the task with an error that says so.
/// A Python-shaped task's positional
/// arguments bind by position and its named map by parameter name, as splatting does; a Go-shaped task's payload
/// goes whole to a handler that declares one parameter, and an array payload is spread over several. A task whose
/// arguments cannot be bound is a bad call and is never retried; a failure inside the handler is retried while the
/// task's retry budget lasts, after an exponential back-off with full jitter (-RetryDelay, -MaxRetryDelay; 0 retries
/// at once, as Python and Go workers do), during which the task waits in the queue's schedule. A task that fails for
/// good goes to the queue's failed store with its reason (Failed, BadCall, NoHandler, Malformed, TimedOut, Oversize):
/// Get-DelayedTask -Failed shows it, Restore-DelayedTask puts it back. Failures are written as non-terminating errors
/// that name the task; the worker goes on. The worker also moves scheduled tasks to the queue as they fall due, and fires due recurring runs.
///
/// By default scriptblock and command handlers run on this pipeline's thread, in this session: they see its
/// variables and functions. With -Concurrency, -ImportModule, -InitializationScript, -TaskTimeout or -AsJob they run
/// instead in a runspace per worker slot, where each scriptblock is re-created from its text: such handlers cannot
/// see the caller's variables, only what -ImportModule and -InitializationScript provide. Each slot starts its .NET
/// handler calls on a thread of its own, so a synchronous handler that blocks never holds up Redis I/O. Each
/// concurrent slot has a worker id of its own.
///
/// The worker stops gracefully, taking no new task and finishing and releasing its running ones, on SIGTERM or
/// SIGHUP (when it runs under pwsh -c or a service manager), on Stop-DelayedWorker or Stop-Job, after -MaxTasks
/// tasks, or with -StopWhenEmpty as soon as the queue is empty; then it deletes its liveness keys and writes a
/// summary. On Ctrl+C it stops the same way, except that PowerShell interrupts a scriptblock running on this
/// pipeline: that task is put back on the queue unchanged. Handlers in runspaces (-Concurrency, -AsJob,
/// -ImportModule, -InitializationScript, -TaskTimeout) run on: Ctrl+C and Stop-Job then say at once which tasks they
/// wait for, and in a console a second Ctrl+C (the first one during Stop-Job) stops them now, putting them back on
/// the queue unchanged. After Ctrl+C the summary goes to the console, as the pipeline takes no more output. A .NET
/// handler may end early on its CancellationToken; its task is then put back too. Delivery is at least once: a task whose worker dies is run again after the
/// sweeper recovers it, so handlers should be idempotent. The worker warns at its start when the server has a memory
/// limit and a maxmemory-policy other than noeviction: such a server deletes keys when full, tasks among them.
/// </remarks>
/// <example>
/// <code>Start-DelayedWorker urgent, default, reports -Concurrency 4</code>
/// <para>
/// One worker for three queues of the default server: a task in urgent always goes before one in default, and that
/// before one in reports. Idle, it waits on all three at once. With -Weighted, each busy queue gets a share instead
/// (a half, a third, a sixth), so reports still move while urgent is busy. Python and Go workers serve one queue each.
/// </para>
/// </example>
/// <example>
/// <code>Start-DelayedWorker $queue -Handler @{ 'Restart-Site' = { param($Server) Restart-WebAppPool $Server } }</code>
/// <para>Runs tasks named Restart-Site until Ctrl+C.</para>
/// </example>
/// <example>
/// <code>Start-DelayedWorker $queue -AssemblyPath ./bin/Ops.Handlers.dll -Concurrency 8 -TaskTimeout (New-TimeSpan -Minutes 5)</code>
/// <para>Runs eight tasks at once with the .NET handlers of an assembly, stopping any task that runs longer than five minutes.</para>
/// </example>
/// <example>
/// <code>$job = Start-DelayedWorker $queue -Concurrency 4 -ImportModule ./Ops.psm1 -Handler @{ patch = 'Invoke-Patch' } -AsJob</code>
/// <para>Runs four handlers at once in the background; Receive-Job $job shows the per-task records, Stop-Job $job stops it gracefully.</para>
/// </example>
/// <example>
/// <code>pwsh -c 'Import-Module Delayed; . ./handlers.ps1; Start-DelayedWorker jobs -StopWhenEmpty -LogFormat Json'</code>
/// <para>From a scheduled job or a service: drain the jobs queue, logging one JSON line per event, then exit.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "DelayedWorker", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(WorkerSummary), typeof(TaskResult), typeof(Job), typeof(string))]
public sealed class StartDelayedWorkerCommand : MetricsServingCmdlet
{
    /// <summary>
    /// The queues to take tasks from (queue objects, or queue names on the default server), in priority order: a task of
    /// an earlier queue always goes first (see -Weighted). All on one Redis server; the first queue's dequeue and
    /// keep-alive timeouts apply.
    /// </summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    [ValidateNotNullOrEmpty]
    public Queue[] Queue { get; set; } = Array.Empty<Queue>();

    /// <summary>
    /// With several queues: instead of strict priority, each busy queue gets a share of the tasks by its place: of two,
    /// two thirds and one third; of three, a half, a third and a sixth; so a busy first queue never starves the others.
    /// </summary>
    [Parameter]
    public SwitchParameter Weighted { get; set; }

    /// <summary>Task names mapped to scriptblocks (or command names) that handle them, in addition to the registered handlers. What a handler writes to its warning, error, verbose, debug and information streams (Write-Host too) reaches the worker's own streams; its output is not logged.</summary>
    [Parameter]
    public IDictionary? Handler { get; set; }

    /// <summary>.NET assemblies whose methods marked [DelayedHandler] handle tasks (see Register-DelayedHandler -AssemblyPath).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? AssemblyPath { get; set; }

    /// <summary>
    /// How many tasks to run at once (default 1). Each slot has its own worker id, a Redis connection of its own for its
    /// idle wait and its claims (named as its worker id in CLIENT LIST; a spare one is opened to wait on while that one
    /// rests after a failure), and, for scriptblocks, its own runspace.
    /// </summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int Concurrency { get; set; } = 1;

    /// <summary>Modules to import into the handlers' runspaces (names or paths).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? ImportModule { get; set; }

    /// <summary>A script run once in each handler runspace before its first task, e.g. to define helper functions or read settings.</summary>
    [Parameter]
    public ScriptBlock? InitializationScript { get; set; }

    /// <summary>The longest a task may run. A scriptblock is then stopped and a .NET handler's token cancelled; the task counts as failed and is retried while its budget lasts.</summary>
    [Parameter]
    public TimeSpan? TaskTimeout { get; set; }

    /// <summary>
    /// The base of the back-off before a failed task with retry budget runs again: attempt n waits a random time up to
    /// RetryDelay × 2^(n−1) (exponential back-off with full jitter), waiting in the queue's schedule meanwhile.
    /// 0 retries at once, as Python and Go workers do. Default 1 second.
    /// </summary>
    [Parameter]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest back-off of a retry. Default 1 hour.</summary>
    [Parameter]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Stops as soon as no task is waiting, instead of waiting for more. For scheduled jobs. Tasks in the schedule (run
    /// later with -Delay or -At, and failed tasks waiting out their back-off) are not waited for: they run once due, on
    /// the next worker that runs. To retry failures within the same run, give -RetryDelay 0 (retried at once).
    /// </summary>
    [Parameter]
    public SwitchParameter StopWhenEmpty { get; set; }

    /// <summary>Stops after this many tasks.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxTasks { get; set; }

    /// <summary>Also writes one record per task: name, arguments, attempt, worker id, status, duration, error.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Runs the worker as a background job of this session and returns the job; its output holds the per-task records.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <summary>
    /// Default writes PowerShell's streams; Json writes one JSON line per event (for journald or a log shipper), with the
    /// task's arguments, and one per record a handler writes (warning, error, verbose, debug, information, Write-Host).
    /// </summary>
    [Parameter]
    public LogFormat LogFormat { get; set; } = LogFormat.Default;


    private static readonly string[] Preferences = { "VerbosePreference", "DebugPreference", "InformationPreference", "WarningPreference" };

    protected override void ProcessRecord()
    {
        if (TaskTimeout is { } limit && limit <= TimeSpan.Zero)
            ThrowTerminatingError(new ErrorRecord(new ArgumentOutOfRangeException(nameof(TaskTimeout), limit, "The task timeout must be positive."), "InvalidTaskTimeout", ErrorCategory.InvalidArgument, limit));
        var inRunspaces = AsJob || Concurrency > 1 || ImportModule is not null || InitializationScript is not null || TaskTimeout is not null;
        using var pump = new PipelinePump();
        // Foreground handlers' pipeline: built on this thread, used and disposed here.
        using var foreground = inRunspaces ? null : new ForegroundPipeline();
        var streams = new HandlerStreams();
        HandlerRunspaces? runspaces = inRunspaces ? new HandlerRunspaces(ImportModule ?? Array.Empty<string>(), InitializationScript?.ToString()) : null;
        WorkerRun? run = null;
        try
        {
            run = Prepare(pump, foreground, streams, runspaces);
        }
        finally
        {
            // Until a run owns them (on -WhatIf, or on an error), the runspaces are this method's to release.
            if (run is null) runspaces?.Dispose();
        }
        if (run is null) return;

        if (AsJob)
        {
            var job = new DelayedJob("Start-DelayedWorker", Queue, $"DelayedWorker:{run.QueueName}",
                (output, stop) => run.RunAsync(new WorkerEventReporter(output, passThru: true, LogFormat), stop), whileStopping: () => run.Notice(Host, afterCtrlC: false));
            JobRepository.Add(job);
            job.Start();
            WriteObject(job);
            return;
        }
        RunInForeground(run, pump, inRunspaces);
    }

    /// <summary>The handlers, the worker and its metrics endpoint, ready to run; null on -WhatIf. Bad input stops here, with an error.</summary>
    private WorkerRun? Prepare(PipelinePump pump, ForegroundPipeline? foreground, HandlerStreams streams, HandlerRunspaces? runspaces)
    {
        var registry = Handlers(pump, foreground, streams, runspaces);
        if (registry.Count == 0)
            WriteWarning("No handler is registered: every task will be refused and released. Pass -Handler or -AssemblyPath, or use Register-DelayedHandler first.");
        var primary = Queue[0];
        var queueName = string.Join(", ", Queue.Select(q => q.Name));
        if (!ShouldProcess($"Queue '{queueName}' on {primary.Redis}", $"Take and run tasks with {registry.Count} handler(s), {Concurrency} at a time")) return null;
        WriteVerbose($"Worker on queue '{queueName}' at {primary.Redis} with {registry.Count} handler(s), {Concurrency} at a time.");
        if (Await(primary.Engine.Connection.EvictingPolicyAsync(), primary.Name) is { } policy)
            WriteWarning($"Redis at {primary.Redis} evicts keys when full (maxmemory-policy {policy}): it would then delete queued tasks, " +
                         "and workers' liveness keys, whose tasks a sweep would run a second time. Set maxmemory-policy noeviction (CONFIG SET " +
                         "maxmemory-policy noeviction, and in redis.conf), so that a full Redis refuses new tasks instead.");
        var options = new WorkerOptions
        {
            DequeueTimeout = primary.DequeueTimeout,
            KeepAliveTimeout = primary.KeepAliveTimeout,
            WeightedQueues = Weighted,
            Concurrency = Concurrency,
            MaxTasks = MaxTasks,
            StopWhenEmpty = StopWhenEmpty,
            TaskTimeout = TaskTimeout,
            RetryDelay = RetryDelay,
            MaxRetryDelay = MaxRetryDelay,
            ResultSerializer = TaskOutput.OfValue,
        };
        DelayedWorker worker;
        try
        {
            worker = new DelayedWorker(Queue.Select(q => q.Engine).ToArray(), registry, options);
        }
        catch (ArgumentException e)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidQueues", ErrorCategory.InvalidArgument, Queue) { ErrorDetails = new ErrorDetails(ArgumentMessages.WithoutParameterName(e)) });
            return null; // not reached
        }
        try
        {
            return new WorkerRun(queueName, worker, options, streams, runspaces, StartMetrics(Queue.Select(q => q.Engine)));
        }
        catch
        {
            worker.Dispose();
            throw;
        }
    }

    /// <summary>The session's registered handlers, -AssemblyPath's and -Handler's, on the pipeline thread or in the runspaces.</summary>
    private WorkerHandlerRegistry Handlers(PipelinePump pump, ForegroundPipeline? foreground, HandlerStreams streams, HandlerRunspaces? runspaces)
    {
        try
        {
            var handlers = SessionHandlers.Current.Values.ToList();
            foreach (var path in AssemblyPath ?? Array.Empty<string>())
                handlers.AddRange(AssemblyHandlerLoader.Load(SessionState.Path.GetUnresolvedProviderPathFromPSPath(path)));
            if (runspaces is null) return WorkerHandlerRegistry.OnPipeline(Handler, handlers, pump, foreground!, streams, InvokeCommand);
            foreach (var preference in Preferences) runspaces.CopyPreference(preference, GetVariableValue(preference));
            var registry = WorkerHandlerRegistry.InRunspaces(Handler, handlers, runspaces, streams, InvokeCommand);
            if (handlers.Any(h => h.Method is null) || Handler is { Count: > 0 }) runspaces.Prepare();
            return registry;
        }
        catch (Exception e) when (e is ArgumentException or System.IO.IOException or BadImageFormatException or RuntimeException or InvalidOperationException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "InvalidHandler", ErrorCategory.InvalidArgument, Handler));
            throw; // not reached
        }
    }

    /// <summary>Runs on this pipeline until the worker stops (Ctrl+C, SIGTERM, Stop-DelayedWorker, -MaxTasks, -StopWhenEmpty).</summary>
    private void RunInForeground(WorkerRun run, PipelinePump pump, bool inRunspaces)
    {
        using (StopSignals.Register(StopProcessing))
        {
            var verbose = MyInvocation.BoundParameters.TryGetValue("Verbose", out var flag)
                ? ((SwitchParameter)flag).IsPresent
                : !Equals(GetVariableValue("VerbosePreference"), ActionPreference.SilentlyContinue);
            var running = run.RunAsync(new WorkerEventReporter(new PipelineOutput(this, pump), PassThru, LogFormat, verbose), StopToken);
            StopNotice? notice = null;
            // Ctrl+C: the worker stops gracefully on the token; handlers in runspaces run on, so say what it waits for,
            // on the pipeline thread, and take a second Ctrl+C to cut them short. Pipeline-thread handlers stop with
            // the pipeline itself.
            using (StopToken.Register(() => { if (inRunspaces) pump.Post(() => notice = run.Notice(Host, afterCtrlC: true)); }))
            {
                pump.Run(running);
            }
            notice?.Dispose();
            Await(running, run.QueueName);
        }
    }
}
