using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using Delayed.Core.Redis;
using Delayed.PowerShell.Conversion;
using Delayed.PowerShell.Parameters;
using Delayed.PowerShell.Jobs;
using Delayed.PowerShell.Reporting;

namespace Delayed.PowerShell.Commands;

/// <summary>Adds tasks to a queue.</summary>
/// <remarks>
/// A task is a name, which workers dispatch on, and plain data: positional arguments, named parameters and a
/// retry budget. Python-shaped tasks (the default) run on this module's workers and on Python workers (name
/// 'module:function'); Go-shaped tasks (-Format Go) carry one payload and run on this module's workers and Go
/// workers (name 'pkg.Func'). Objects piped in bind Name, ArgumentList, Parameter and Retry by property name,
/// and are sent to Redis in batches: each task goes with its token in one transaction, so on Ctrl+C every task
/// is either fully enqueued or not at all (the batch still being collected is not sent).
/// Data is converted to MessagePack: $null, booleans, numbers, strings, byte arrays, dates, enums (their name),
/// GUIDs, arrays, hashtables and PSCustomObjects. Anything else is refused: pass its properties with Select-Object.
/// With -Delay or -At the task waits in the queue's schedule (the extension key name_scheduled) and becomes an
/// ordinary task, with its token, once due by the Redis server's clock: this module's workers and sweepers move due
/// tasks as they fall due (a task scheduled in another process than theirs, with a delay under a second, may start up to a second late). Python and Go workers run such tasks too, once moved: a queue served only by them needs
/// Start-DelayedSweeper running. Without -Delay and -At, the bytes and commands are exactly the protocol's.
/// With -UniqueFor, a task whose key (its bytes, or -UniqueKey) was enqueued less than that long ago is skipped,
/// atomically however many clients enqueue at once; the windows live in the extension key name_unique, which
/// expires by itself. Python and Go enqueuers know nothing of it.
/// With -AsJob each task is tracked and comes back as a PowerShell job (one per task): Wait-Job, Receive-Job,
/// Stop-Job and Remove-Job work on it as on any job, from this session; Get-DelayedTask -Id finds it again from any
/// session. Its record (extension keys name_tracked and name_tracked_ended) follows it through workers, retries,
/// sweeps and the schedule, and stays for -KeepFor after it ends (default one day), with up to 1 MiB of what its
/// handler wrote (a note says when more was dropped). Only this module's workers keep records: a tracked task that a
/// Python or Go worker takes ends Disconnected, its outcome unknown. An untracked task costs nothing of this.
/// When Redis does not answer (within the connection's timeout, 5 s unless the configuration string sets
/// asyncTimeout/syncTimeout), the terminating error says which tasks are enqueued and which are not: error id
/// RedisUnavailableNotEnqueued when nothing was sent (enqueue them again), RedisUnavailableEnqueueInDoubt when a batch
/// was sent and its reply lost (all of its tasks are enqueued, or none: look before enqueueing again, or use -UniqueFor;
/// with -AsJob the error's TargetObject holds the tasks' ids, and Get-DelayedTask -Id tells whether each was enqueued).
/// A server that refuses for a while (LOADING after a restart, BUSY while a script runs past its time) enqueues
/// nothing: error id RedisRefusedNotEnqueued. A read-only replica enqueues nothing either: RedisReadOnlyNotEnqueued,
/// which says to give the primary's address (or the sentinels').
/// </remarks>
/// <example>
/// <code>1..20 | ForEach-Object { [pscustomobject]@{ Name = 'Get-Answer'; ArgumentList = @($_) } } | Add-DelayedTask $queue -AsJob | Wait-Job | Receive-Job</code>
/// <para>Enqueues twenty tracked tasks, waits until workers (on any machine) have run them all, and returns what their handlers returned; their warnings and errors come back in this session's streams.</para>
/// </example>
/// <example>
/// <code>$job = Add-DelayedTask $queue Patch-Server web01 -AsJob -KeepFor (New-TimeSpan -Days 7); $job.TrackingId</code>
/// <para>Tracks one task and keeps its outcome for a week; its id finds it again from another session: Get-DelayedTask $queue -Id $id.</para>
/// </example>
/// <example>
/// <code>$reboot = Add-DelayedTask $queue Restart-Computer db01 -At (Get-Date '23:00') -PassThru; $reboot | Remove-DelayedTask -Confirm:$false</code>
/// <para>Schedules a task, shows when it is due, and cancels it with the record -PassThru wrote.</para>
/// </example>
/// <example>
/// <code>Add-DelayedTask $queue Restart-Site web01 -UniqueFor (New-TimeSpan -Minutes 10) -AsJob | Receive-Job -Wait</code>
/// <para>However many alerts ask, one restart per ten minutes; each caller's job follows that one restart and receives its result.</para>
/// </example>
/// <example>
/// <code>Add-DelayedTask $queue Restart-Site web01 -UniqueFor (New-TimeSpan -Minutes 10) -UniqueKey 'restart:web01' -PassThru</code>
/// <para>Restarts web01 at most once per ten minutes, however many alerts ask for it: a duplicate is skipped (Duplicate = True).</para>
/// </example>
/// <example>
/// <code>Add-DelayedTask $queue Restart-Site -ArgumentList 'web01' -Parameter @{ Force = $true } -Retry 3</code>
/// <para>Enqueues one task; a worker runs the handler registered as Restart-Site with 'web01' and -Force, and retries it up to three times if it fails.</para>
/// </example>
/// <example>
/// <code>Import-Csv servers.csv | ForEach-Object { [pscustomobject]@{ Name = 'Patch-Server'; ArgumentList = @($_.Host) } } | Add-DelayedTask $queue</code>
/// <para>One task per line of a CSV file, sent in batches.</para>
/// </example>
/// <example>
/// <code>Add-DelayedTask $queue Restart-Site web01 -Delay (New-TimeSpan -Minutes 10)</code>
/// <para>Runs the task in ten minutes, by the Redis server's clock. -At '2026-12-24 18:00' gives a time instead.</para>
/// </example>
/// <example>
/// <code>Import-Csv window.csv | Select-Object @{ n = 'Name'; e = { 'Patch-Server' } }, @{ n = 'ArgumentList'; e = { , $_.Host } }, @{ n = 'At'; e = { [datetime]$_.Start } } | Add-DelayedTask $queue</code>
/// <para>One task per line, each due at the time in its Start column.</para>
/// </example>
/// <example>
/// <code>Add-DelayedTask $queue main.SendEmail -ArgumentList 'ops@example.com' -Format Go</code>
/// <para>A task for a Go worker whose handler takes one string.</para>
/// </example>
[Cmdlet(VerbsCommon.Add, "DelayedTask", SupportsShouldProcess = true)]
[OutputType(typeof(EnqueuedTask), typeof(Job))]
public sealed class AddDelayedTaskCommand : DelayedCmdlet
{
    private const int BatchSize = 1000;
    private static readonly TimeSpan MaxBatchAge = TimeSpan.FromMilliseconds(200);
    private readonly List<byte[]> _batch = new();
    private readonly List<(byte[] Task, TimeSpan? Delay, DateTimeOffset? At)> _scheduled = new();
    private readonly List<EnqueuedTask?> _scheduledSent = new(); // in step with _scheduled: the -PassThru record that learns its entry
    private readonly List<EnqueuedTask> _sent = new();
    private readonly List<(Core.Queue.UniqueTask Task, EnqueuedTask Sent)> _unique = new();
    private readonly List<(Core.Queue.TrackedEnqueue Task, DelayedTaskJob Job)> _tracked = new();
    private readonly Stopwatch _batchAge = new();
    private Queue? _batchQueue;
    private long _enqueued;
    private (Queue Queue, string Text)? _target;

    /// <summary>What ShouldProcess names, kept for the queue of the last task: one string per task fewer in a pipeline.</summary>
    private string TargetOf(Queue queue)
    {
        if (_target is not { } target || !ReferenceEquals(target.Queue, queue)) _target = target = (queue, $"Queue '{queue.Name}' on {queue.Redis}");
        return target.Text;
    }

    /// <summary>The queue to add to (a queue object, or a queue name on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    /// <summary>The task's name: the name a handler is registered under on the workers.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HandlerNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>Positional arguments for the handler. With -Format Go, one argument is the payload itself and several are sent as an array.</summary>
    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
    [Alias("Args")]
    [AllowNull, AllowEmptyCollection]
    public object?[]? ArgumentList { get; set; }

    /// <summary>Named parameters for the handler, bound by name as splatting does (Python format only).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    public IDictionary? Parameter { get; set; }

    /// <summary>How many more times a failing task is tried: 0 none (default), a negative number without limit (Python format only).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public int Retry { get; set; }

    /// <summary>Python (default) or Go: which workers besides this module's can run the task.</summary>
    [Parameter]
    public TaskFormat Format { get; set; } = TaskFormat.Python;

    /// <summary>Runs the task after this long, by the Redis server's clock (so no client's clock can move it).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public TimeSpan? Delay { get; set; }

    /// <summary>Runs the task at this time (a local time unless it says otherwise), or at once if it has passed.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public DateTimeOffset? At { get; set; }

    /// <summary>
    /// Enqueues the task only if no task of the same key was enqueued within this window; a duplicate is skipped
    /// (-PassThru shows it with Duplicate = True; -Verbose says so). The key is the task's bytes, or -UniqueKey.
    /// Atomic however many clients enqueue at once. Works with -Delay and -At.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public TimeSpan? UniqueFor { get; set; }

    /// <summary>The uniqueness key for -UniqueFor, e.g. 'patch:web01', so that tasks with other arguments count as the same.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? UniqueKey { get; set; }

    /// <summary>
    /// Writes an object for each task sent; for a task added with -Delay or -At (with -UniqueFor too, unless skipped as a
    /// duplicate), with its ScheduleId, DueAt (the server's clock) and Bytes, which Remove-DelayedTask takes from the
    /// pipeline to cancel it.
    /// </summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Tracks each task and writes a job for it, which Wait-Job, Receive-Job and Stop-Job take (see the remarks).</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <summary>With -AsJob: how long the task's record and output stay in Redis after it ends (default one day).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public TimeSpan KeepFor { get; set; } = TimeSpan.FromDays(1);

    protected override void ProcessRecord()
    {
        if (TaskBytes.FormatProblem(Format, MyInvocation.BoundParameters.ContainsKey(nameof(Parameter)), MyInvocation.BoundParameters.ContainsKey(nameof(Retry))) is { } problem)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException(problem), "GoFormatParameter", ErrorCategory.InvalidArgument, Name));
        if (Delay is not null && At is not null)
        {
            WriteError(new ErrorRecord(new ArgumentException($"Task '{Name}' was not enqueued: give -Delay or -At, not both."), "DelayAndAt", ErrorCategory.InvalidArgument, Name));
            return;
        }
        if (UniqueKey is not null && UniqueFor is null)
        {
            WriteError(new ErrorRecord(new ArgumentException($"Task '{Name}' was not enqueued: -UniqueKey needs -UniqueFor, the time its key blocks another enqueue."), "UniqueKeyWithoutWindow", ErrorCategory.InvalidArgument, Name));
            return;
        }
        if (UniqueFor is { } window && window <= TimeSpan.Zero)
        {
            WriteError(new ErrorRecord(new ArgumentException($"Task '{Name}' was not enqueued: -UniqueFor {window} is not positive. Give how long a second enqueue of the same task is skipped, e.g. (New-TimeSpan -Minutes 10)."), "UniqueWindowNotPositive", ErrorCategory.InvalidArgument, Name));
            return;
        }
        if (KeepFor <= TimeSpan.Zero)
        {
            WriteError(new ErrorRecord(new ArgumentException($"Task '{Name}' was not enqueued: -KeepFor {KeepFor} is not positive. Give how long its outcome stays after it ends, e.g. (New-TimeSpan -Days 7)."), "KeepForNotPositive", ErrorCategory.InvalidArgument, Name));
            return;
        }
        if (Delay < TimeSpan.Zero)
        {
            WriteError(new ErrorRecord(new ArgumentException($"Task '{Name}' was not enqueued: -Delay {Delay} is negative. Give a positive time span, or -At a time."), "NegativeDelay", ErrorCategory.InvalidArgument, Name));
            return;
        }
        byte[] task;
        try
        {
            task = TaskBytes.Encode(Name, ArgumentList, Parameter, Retry, Format);
        }
        catch (Exception e) when (ToErrorRecord(e, Name) is { } record)
        {
            WriteError(new ErrorRecord(new ArgumentException($"Task '{Name}' was not enqueued: {e.Message}", e), record.FullyQualifiedErrorId, record.CategoryInfo.Category, Name));
            return;
        }
        var when = Delay is { } delay ? $" to run in {delay}" : At is { } at ? $" to run at {at}" : "";
        if (!ShouldProcess(TargetOf(Queue), $"Add task '{Name}'{when}")) return;

        if (_batchQueue is not null && !ReferenceEquals(_batchQueue.Engine, Queue.Engine)) Flush();
        _batchQueue = Queue;
        // The record only when it is written: a pipeline of plain enqueues allocates nothing more per task.
        var sent = PassThru || UniqueFor is not null ? new EnqueuedTask(Queue, Name, Format, task.Length) : null;
        if (UniqueFor is { } unique) _unique.Add((new Core.Queue.UniqueTask(task, unique, UniqueKey, Delay, At, AsJob ? KeepFor : null), sent!));
        else if (AsJob)
        {
            var tracked = new Core.Queue.TrackedEnqueue(task, KeepFor, Delay, At);
            if (sent is not null) sent.TrackingId = tracked.Id;
            _tracked.Add((tracked, new DelayedTaskJob(Queue, tracked.Id, Name, scheduled: Delay is not null || At is not null)));
        }
        else if (Delay is null && At is null) _batch.Add(task);
        else
        {
            _scheduled.Add((task, Delay, At));
            _scheduledSent.Add(sent);
        }
        if (PassThru) _sent.Add(sent!);
        var pending = _batch.Count + _scheduled.Count + _unique.Count + _tracked.Count;
        if (pending == 1) _batchAge.Restart();
        if (pending >= BatchSize || _batchAge.Elapsed > MaxBatchAge) Flush();
    }

    protected override void EndProcessing()
    {
        Flush();
        if (_enqueued >= BatchSize) WriteProgress(new ProgressRecord(1, "Adding delayed tasks", "Done") { RecordType = ProgressRecordType.Completed });
    }

    private T AwaitSending<T>(System.Threading.Tasks.Task<T> call, int count, string?[]? trackingIds = null)
    {
        AwaitSending((System.Threading.Tasks.Task)call, count, trackingIds);
        return call.Result;
    }

    /// <summary>
    /// Waits for one call that enqueues <paramref name="count"/> tasks at once (one transaction or script: all of them or
    /// none). When Redis does not answer, the error says which tasks are enqueued, which are not, and which may be, so that
    /// none is lost or sent twice by a caller who acts on it. Tracked tasks (-AsJob) have their ids before they are sent:
    /// in doubt, those ids are the error's target, and Get-DelayedTask -Id tells whether each was enqueued.
    /// </summary>
    private void AwaitSending(System.Threading.Tasks.Task call, int count, string?[]? trackingIds = null)
    {
        try
        {
            call.GetAwaiter().GetResult();
        }
        catch (Exception e) when (Failures.Classify(e) == FailureKind.Unavailable)
        {
            var neverSent = Failures.NeverSent(e);
            var ids = trackingIds?.OfType<string>().ToArray();
            var message = NotAnsweredMessage(count, neverSent, TransientFailure.Brief(e, "the error's Exception.InnerException"));
            if (!neverSent && ids is { Length: > 0 })
                message += $" Tracked: Get-DelayedTask '{_batchQueue!.Name}' -Id {(ids.Length == 1 ? ids[0] : "<id>, with the ids in the error's TargetObject,")} says whether {(ids.Length == 1 ? "it was" : "each was")}.";
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException(message, e),
                neverSent ? "RedisUnavailableNotEnqueued" : "RedisUnavailableEnqueueInDoubt", ErrorCategory.ConnectionError, ids is { Length: > 0 } ? ids : Name));
        }
        catch (Exception e) when (Failures.TemporaryRefusal(e) is { } refusal)
        {
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException(RefusedMessage(count, refusal), e), "RedisRefusedNotEnqueued", ErrorCategory.ResourceBusy, Name));
        }
        catch (Exception e) when (Failures.ReadOnlyRefusal(e) is { } readOnly)
        {
            var (one, these, before) = Batch(count);
            var message = $"Redis refused {these}, and {(one ? "it was" : "they were")} not enqueued: {before}{ReadOnlyMessage(readOnly)}";
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException(message, e), "RedisReadOnlyNotEnqueued", ErrorCategory.InvalidOperation, Name));
        }
        catch (Exception e) when (ToErrorRecord(e, _batchQueue!.Name) is { } record)
        {
            ThrowTerminatingError(record);
        }
        _enqueued += count;
    }

    // Which tasks a failed call carried, and what became of those sent before it, as the errors below say them.
    private (bool One, string These, string Before) Batch(int count)
    {
        var one = count == 1;
        var these = one && _enqueued == 0 ? $"task '{Name}'" : one ? "the last task given" : $"{count:N0} tasks (one transaction)";
        var before = _enqueued == 0 ? "" : $"The {_enqueued:N0} task{(_enqueued == 1 ? "" : "s")} sent before {(one ? "it" : "them")} {(_enqueued == 1 ? "is" : "are")} enqueued. ";
        return (one, these, before);
    }

    private string RefusedMessage(int count, string refusal)
    {
        var (one, these, before) = Batch(count);
        return $"Redis refused {these} for now, and {(one ? "it was" : "they were")} not enqueued: {refusal.TrimEnd('.')}. {before}" +
               $"Enqueue {(one ? "it" : "them")} again once Redis serves again (it does by itself: after loading its data, or once the script ends or is killed).";
    }

    private string NotAnsweredMessage(int count, bool neverSent, string clientSaid)
    {
        var (one, these, before) = Batch(count);
        return neverSent
            ? $"Redis did not answer, and {these} {(one ? "was" : "were")} not enqueued: nothing was sent. {before}" +
              $"Enqueue {(one ? "it" : "them")} again once the server is up (the connection recovers by itself). The client said: {clientSaid}"
            : $"Redis did not answer after {these} {(one ? "was" : "were")} sent: {(one ? "it" : "they")} may or may not have been enqueued" +
              $"{(one ? "" : ", all of them or none")}. {before}Look before enqueueing {(one ? "it" : "them")} again (Get-DelayedTask, Get-DelayedQueue), " +
              $"or enqueue with -UniqueFor so that a second enqueue is skipped. The client said: {clientSaid}";
    }

    private void Flush()
    {
        if (_batch.Count + _scheduled.Count + _unique.Count + _tracked.Count == 0 || _batchQueue is null) return;
        if (_batch.Count > 0) AwaitSending(_batchQueue.Engine.EnqueueAsync(_batch.ToArray()), _batch.Count);
        if (_tracked.Count > 0) AwaitSending(_batchQueue.Engine.EnqueueTrackedAsync(_tracked.Select(t => t.Task).ToArray()), _tracked.Count, _tracked.Select(t => (string?)t.Task.Id).ToArray());
        if (_scheduled.Count > 0)
        {
            var entries = AwaitSending(_batchQueue.Engine.ScheduleAsync(_scheduled.ToArray()), _scheduled.Count);
            for (var i = 0; i < entries.Count; i++) _scheduledSent[i]?.Scheduled(entries[i]);
        }
        var uniqueJobs = new List<DelayedTaskJob>();
        if (_unique.Count > 0)
        {
            var outcomes = AwaitSending(_batchQueue.Engine.EnqueueUniqueWithOutcomeAsync(_unique.Select(u => u.Task).ToArray()), _unique.Count, _unique.Select(u => u.Task.TrackingId).ToArray());
            for (var i = 0; i < outcomes.Count; i++)
            {
                var (unique, sent) = _unique[i];
                // A duplicate of a tracked task stands for that one: its job follows it rather than a new task.
                var id = outcomes[i].Enqueued ? unique.TrackingId : outcomes[i].ExistingTrackingId;
                sent.TrackingId = id;
                if (outcomes[i].Scheduled is { } entry) sent.Scheduled(entry);
                if (!outcomes[i].Enqueued)
                {
                    _enqueued--; // counted as sent, skipped as a duplicate
                    sent.Duplicate = true;
                    WriteVerbose($"Task '{sent.Name}' was not enqueued on '{_batchQueue.Name}': a task with the same uniqueness key was, less than {unique.Window} ago{(id is null ? "" : $" (tracked task {id})")}.");
                }
                if (unique.TrackingId is null) continue;
                if (id is null)
                {
                    WriteError(new ErrorRecord(new InvalidOperationException(
                        $"Task '{sent.Name}' was not enqueued on '{_batchQueue.Name}': a task with the same uniqueness key was, less than {unique.Window} ago, without -AsJob, so no job can follow it."),
                        "DuplicateOfUntrackedTask", ErrorCategory.ResourceExists, sent.Name));
                    continue;
                }
                uniqueJobs.Add(new DelayedTaskJob(_batchQueue, id, sent.Name, scheduled: outcomes[i].Enqueued && (unique.Delay is not null || unique.At is not null)));
            }
        }
        _batch.Clear();
        _scheduled.Clear();
        _scheduledSent.Clear();
        _unique.Clear();
        foreach (var sent in _sent) WriteObject(sent);
        _sent.Clear();
        foreach (var job in _tracked.Select(t => t.Job).Concat(uniqueJobs))
        {
            JobRepository.Add(job);
            job.Track();
            WriteObject(job);
        }
        _tracked.Clear();
        if (_enqueued >= BatchSize)
            WriteProgress(new ProgressRecord(1, "Adding delayed tasks", $"{_enqueued:N0} tasks enqueued on '{_batchQueue.Name}'"));
    }
}
