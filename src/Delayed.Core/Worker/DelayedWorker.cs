using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Protocol;
using Delayed.Core.Queue;
using Delayed.Core.Telemetry;
using Delayed.Core.Redis;
using Delayed.Core.Scheduling;

namespace Delayed.Core.Worker;

/// <summary>
/// Takes tasks from one queue and dispatches them by exact name to a registry (docs/protocol.md, Operations: Claim).
/// A busy slot finishes its task and claims the next in one round trip; only an idle slot blocks, on a
/// connection of its own. Every task that is not re-enqueued is released. A graceful stop finishes the
/// running tasks, releases them, ends the keep-alive loop, and only then deletes the liveness keys.
/// </summary>
public sealed class DelayedWorker : IDisposable
{
    private static readonly TimeSpan UnhealthyPause = TimeSpan.FromMilliseconds(250);
    private readonly DelayedQueue _queue;
    private readonly DelayedQueue[] _queues;
    /// <summary>In strict priority, for each queue, the queues up to it (the last: all of them); null otherwise.</summary>
    private readonly DelayedQueue[][]? _priorityPrefixes;
    private readonly ITaskHandlerRegistry _registry;
    private readonly WorkerOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _interrupting = new();
    private KeepAliveLoop? _keepAlive;
    private bool _fractionalTimeouts;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _returnedNames = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _lapsed = new(StringComparer.Ordinal);
    private long _reserved, _succeeded, _failed, _retried, _returned;
    private int _paused;
    private int _disposed;

    public DelayedWorker(DelayedQueue queue, ITaskHandlerRegistry registry, WorkerOptions? options = null)
        : this(new[] { queue ?? throw new ArgumentNullException(nameof(queue)) }, registry, options)
    {
    }

    /// <summary>
    /// A worker of several queues of one Redis server, in priority order: a task of an earlier queue always goes
    /// first, or, with <see cref="WorkerOptions.WeightedQueues"/>, each busy queue gets a share by its place.
    /// </summary>
    public DelayedWorker(IReadOnlyList<DelayedQueue> queues, ITaskHandlerRegistry registry, WorkerOptions? options = null)
    {
        if (queues is null || queues.Count == 0) throw new ArgumentException("A worker needs at least one queue.", nameof(queues));
        _queues = queues.ToArray();
        _queue = _queues[0];
        foreach (var other in _queues.Skip(1))
        {
            if (!ReferenceEquals(other.Connection, _queue.Connection))
                throw new ArgumentException($"The queues of one worker must be on one Redis server through one connection: '{other.Name}' is not on the connection of '{_queue.Name}'.", nameof(queues));
            if (other.Keys.HashTag != _queue.Keys.HashTag && _queue.Connection.IsCluster)
                throw new ArgumentException($"On a Redis Cluster the queues of one worker must share a hash tag, as one script reaches all of them: '{other.Name}' and '{_queue.Name}' do not. Name them e.g. '{{jobs}}high' and '{{jobs}}low'.", nameof(queues));
        }
        if (_queues.Select(q => q.Name).Distinct(StringComparer.Ordinal).Count() != _queues.Length)
            throw new ArgumentException("A queue is named twice: give each queue of a worker once.", nameof(queues));
        _registry = registry;
        _options = options ?? new WorkerOptions();
        _options.Validate();
        if (_queues.Length > 1 && !_options.WeightedQueues)
            _priorityPrefixes = _queues.Select((_, i) => i == _queues.Length - 1 ? _queues : _queues.Take(i + 1).ToArray()).ToArray();
    }

    /// <summary>The names of its queues, in order, as events about all of them show them.</summary>
    private string Names => string.Join(", ", _queues.Select(q => q.Name));

    /// <summary>The ids of the slots, one per concurrent task; filled in once the worker has registered.</summary>
    public IReadOnlyList<string> WorkerIds { get; private set; } = Array.Empty<string>();

    /// <summary>Asks the worker to stop gracefully: no new task, running ones finish. Safe from any thread.</summary>
    public void RequestStop() => Signal(_stopping);

    /// <summary>
    /// Asks the worker to stop now: no new task, and running handlers that can be aborted (PowerShell ones) are, their
    /// tasks going back to the queue unchanged. .NET handlers see their cancellation token, as on any stop. Safe from any thread.
    /// </summary>
    public void InterruptRunning()
    {
        RequestStop();
        Signal(_interrupting);
    }

    /// <summary>Releases the stop signals. Asking a disposed worker to stop does nothing: it has stopped.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stopping.Dispose();
        _interrupting.Dispose();
    }

    private void Signal(CancellationTokenSource source)
    {
        if (Volatile.Read(ref _disposed) == 1) return;
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // disposed meanwhile: the run is over
        }
    }

    /// <summary>
    /// Runs until <paramref name="stopRequest"/> is signalled or <see cref="RequestStop"/> is called (then stops
    /// gracefully), an admin asks it to stop (Stop-DelayedWorker), MaxTasks is reached, or, with
    /// StopWhenEmpty, the queue is empty.
    /// </summary>
    public async Task<WorkerSummary> RunAsync(CancellationToken stopRequest = default)
    {
        using var registration = stopRequest.Register(RequestStop);
        var stop = _stopping.Token;
        var clock = Stopwatch.StartNew();
        var ids = new List<string>();
        var slots = new List<Slot>();
        var direct = new List<DirectConnection?>();
        var handlerThreads = new List<HandlerThread>();
        using var keepAliveStop = new CancellationTokenSource();
        Task? keepAliveTask = null, promotionTask = null;
        try
        {
            // The liveness key is written before the first dequeue (docs/protocol.md, Operations: Register).
            _fractionalTimeouts = _queue.Connection.TakesFractionalTimeouts;
            var description = WorkerDescription.OfThisProcess(_options.KeepAliveSeconds, Array.ConvertAll(_queues, q => q.Name));
            for (var i = 0; i < _options.Concurrency; i++) ids.Add(await RegisterAsync(description).ConfigureAwait(false));
            // A worker of several queues is listed on each, so Get-DelayedWorker and Stop-DelayedWorker find it there.
            foreach (var other in _queues.Skip(1))
                foreach (var id in ids) await other.ListWorkerAsync(id, description).ConfigureAwait(false);
            WorkerIds = ids;
            // The keep-alive loop and the promotion speak for the whole worker, under its first id (the promotion with the queue it failed on).
            void Failed(Exception e) => Emit(new WorkerEvent(WorkerEventKind.WorkerError, _queue.Name, ids[0], error: e));
            void Recovered(TimeSpan lasted) => Emit(new WorkerEvent(WorkerEventKind.WorkerRecovered, _queue.Name, ids[0], duration: lasted));
            _keepAlive = new KeepAliveLoop(_queues, ids, _options, description, Failed, OnLapse, OnStopRequest, RequestStop, Recovered);
            // The first refresh before any slot starts: a worker that cannot refresh its key takes no task.
            await _keepAlive.RefreshAsync().ConfigureAwait(false);
            keepAliveTask = Task.Run(() => _keepAlive.RunAsync(keepAliveStop.Token), CancellationToken.None);
            // Scheduled tasks and retries waiting out their back-off become runnable without anyone asking.
            var promoter = new SchedulePromoter(_queues,
                (queue, e) => Emit(new WorkerEvent(WorkerEventKind.WorkerError, queue.Name, ids[0], error: e, activity: Promoting(queue))),
                (queue, lasted) => Emit(new WorkerEvent(WorkerEventKind.WorkerRecovered, queue.Name, ids[0], duration: lasted, activity: Promoting(queue))),
                _options.PromotionInterval);
            promotionTask = Task.Run(() => promoter.RunAsync(keepAliveStop.Token), CancellationToken.None);
            for (var slot = 0; slot < ids.Count; slot++) handlerThreads.Add(new HandlerThread($"Delayed worker slot {slot + 1}"));
            // A claim's reply holds at most a task at the size limit: the rest of a reply is small.
            for (var slot = 0; slot < ids.Count; slot++)
                direct.Add(_options.DirectClaims ? _queue.Connection.OpenDirect(_queue.Keys.Tasks, _options.Limits.MaxTaskBytes + 65536L, $"Delayed worker slot {slot + 1} claims", ids[slot]) : null);
            for (var slot = 0; slot < ids.Count; slot++)
                slots.Add(new Slot(ids[slot], () => _queue.Connection.OpenBlockingAsync(_options.DequeueTimeout), direct[slot], handlerThreads[slot], _queue,
                    new Backoff(_options.InitialBackoff, _options.MaxBackoff)));
            await Task.WhenAll(slots.Select(slot => Task.Run(() => RunSlotAsync(slot, stop)))).ConfigureAwait(false);
        }
        finally
        {
            keepAliveStop.Cancel();
            if (keepAliveTask is not null) await keepAliveTask.ConfigureAwait(false);
            if (promotionTask is not null) await promotionTask.ConfigureAwait(false);
            // Only after the keep-alive loop has ended, so no refresh can follow the DEL and bring the key back.
            foreach (var id in ids) await GoOfflineAsync(id).ConfigureAwait(false);
            foreach (var slot in slots) slot.Spare?.Dispose();
            foreach (var connection in direct) connection?.Dispose();
            foreach (var thread in handlerThreads) thread.Dispose();
        }
        return new WorkerSummary
        {
            Succeeded = _succeeded, Failed = _failed, Retried = _retried, Returned = _returned, Duration = clock.Elapsed,
        };
    }

    private static string Promoting(DelayedQueue queue) => $"moving due scheduled tasks to queue '{queue.Name}'";

    private async Task<string> RegisterAsync(WorkerDescription description)
    {
        // 128 random bits: a conflict is next to impossible, but SET NX makes sure.
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var id = Protocol.WorkerIds.New(_queue.Keys.HashTag);
            if (await _queue.RegisterAsync(id, _options.KeepAliveSeconds, description).ConfigureAwait(false)) return id;
        }
        throw new InvalidOperationException("Could not register a worker id: every random id drawn was taken.");
    }

    private async Task GoOfflineAsync(string id)
    {
        try
        {
            foreach (var queue in _queues) await queue.GoOfflineAsync(id).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The key then expires by itself after the keep-alive timeout.
            Emit(new WorkerEvent(WorkerEventKind.WorkerError, _queue.Name, id, error: e));
        }
    }

    /// <summary>
    /// One slot's loop: reserve a task of the budget, claim (finishing the task held), run what was claimed, and so on;
    /// a reservation that got no task is given back in one place. The task a claim finishes is the one the slot ran
    /// before: finish and claim are one round trip while the slot is busy.
    /// </summary>
    private async Task RunSlotAsync(Slot slot, CancellationToken stop)
    {
        var id = slot.Id;
        while (!stop.IsCancellationRequested)
        {
            if (!_keepAlive!.Healthy)
            {
                await PauseAsync(UnhealthyPause, stop).ConfigureAwait(false);
                continue;
            }
            if (!TryReserve()) break;
            // The number counts the tasks this slot claimed (not its attempts), so that the stamps in the in-flight hash
            // tell a watcher how many tasks a worker took between two looks (Watch-DelayedQueue's rate).
            var stamp = NewStamp(slot.Claims + 1);
            var order = ClaimOrder();
            var from = BusyClaimOrder(slot, order);
            Claim claim;
            // The busy path is this one await: a helper with an await of its own would cost a state machine and a task
            // per claim (256 B per task in the drain benchmark).
            try
            {
                var reply = await (slot.Held is null ? order[0] : slot.HeldQueue)
                    .FinishAndClaimAsync(id, ClaimMode.TakeToken, stamp, slot.Held, _options.Limits.MaxTaskBytes, from.Length > 1 ? from : null, slot.ReplyLost,
                        slot.ClaimConnection)
                    .ConfigureAwait(false);
                claim = Classify(slot, reply, from);
                if (from.Length < order.Length && claim.Outcome is ClaimOutcome.Idle or ClaimOutcome.Empty or ClaimOutcome.Paused)
                {
                    // None in the queues up to the last task's (the held task is finished): the same claim over all of them.
                    reply = await order[0].FinishAndClaimAsync(id, ClaimMode.TakeToken, stamp, null, _options.Limits.MaxTaskBytes, order, slot.ReplyLost,
                            slot.ClaimConnection)
                        .ConfigureAwait(false);
                    claim = Classify(slot, reply, order);
                }
                slot.Busy = claim.Outcome == ClaimOutcome.Task;
                if (claim.Outcome == ClaimOutcome.Unregistered)
                {
                    // The liveness key expired (a paused process) or Redis lost it: write it again (the refresh reports the
                    // lapse) before taking a task, so that no sweeper takes the task for a dead worker's.
                    await _keepAlive.RefreshAsync().ConfigureAwait(false);
                }
                else if (claim.Outcome == ClaimOutcome.Idle)
                {
                    claim = await WaitAndClaimAsync(slot, order, stamp, stop).ConfigureAwait(false);
                }
            }
            catch (Exception e)
            {
                // The next claim hands back a task this one may have taken without its reply arriving.
                slot.ReplyLost = true;
                slot.Failures.Failed();
                Emit(new WorkerEvent(WorkerEventKind.WorkerError, _queue.Name, id, error: e, duration: slot.Backoff.Next));
                claim = new Claim(ClaimOutcome.Failed);
            }
            if (claim.Outcome != ClaimOutcome.Task) Unreserve();
            if (claim.Outcome is ClaimOutcome.Stop or ClaimOutcome.Empty) break;
            if (claim.Outcome != ClaimOutcome.Task)
            {
                await AfterNoTaskAsync(slot, claim.Outcome, stop).ConfigureAwait(false);
                continue;
            }
            slot.Claims++;
            slot.HeldQueue = claim.Queue!;
            slot.Held = claim.Reply.OversizeBytes > 0
                // Claimed but not sent: finished as a failure with the next claim, so its bytes go to the failed store
                // without ever coming here.
                ? Failed(claim.Queue!, id, stamp, null, Array.Empty<byte>(), FailureReason.Oversize, new MalformedTaskException(
                    $"A task of {claim.Reply.OversizeBytes} bytes is over the limit of {_options.Limits.MaxTaskBytes} bytes: it went to the failed store without being read."), 0, default)
                : await ExecuteAsync(claim.Queue!, slot, claim.Reply, stamp, stop).ConfigureAwait(false);
            if (slot.Held.IsReturn)
            {
                // Put back for want of a handler: finished on its own, and this slot steps aside a moment before it
                // claims again, so that the waiting tokens go to workers that have the handler rather than back here.
                await FinishLastAsync(slot.HeldQueue, id, slot.Held).ConfigureAwait(false);
                slot.Held = null;
                await PauseAsync(TimeSpan.FromMilliseconds(Jitter.Value!.Next(50, 250)), stop).ConfigureAwait(false);
            }
        }
        if (slot.Held is not null) await FinishLastAsync(slot.HeldQueue, id, slot.Held).ConfigureAwait(false);
    }

    /// <summary>What a claim's reply means for the slot: a task, or why none (the slot's state follows it).</summary>
    private Claim Classify(Slot slot, ClaimReply reply, DelayedQueue[] order)
    {
        slot.Held = null;
        slot.ReplyLost = false;
        if (slot.WakingTokenLeftIn is { } waking)
        {
            waking.ReturnWakingToken();
            slot.WakingTokenLeftIn = null;
        }
        if (slot.Failures.Ended() is { } failing) Emit(new WorkerEvent(WorkerEventKind.WorkerRecovered, Names, slot.Id, duration: failing));
        slot.PausedQueues = reply.PausedSources is { } paused ? Array.ConvertAll(paused, p => order[p]) : null;
        if (reply.StopRequested)
        {
            // Stop-DelayedWorker: the whole worker stops after its running tasks.
            RequestStop();
            return new Claim(ClaimOutcome.Stop);
        }
        if (reply.Paused) return new Claim(ClaimOutcome.Paused);
        if (Volatile.Read(ref _paused) == 1 && Interlocked.Exchange(ref _paused, 0) == 1) Emit(new WorkerEvent(WorkerEventKind.QueueResumed, Names, slot.Id));
        if (reply.Unregistered) return new Claim(ClaimOutcome.Unregistered);
        slot.Unregistered = 0;
        slot.Backoff.Reset();
        if (reply.Claimed) return new Claim(ClaimOutcome.Task, reply, order[reply.Source]);
        return new Claim(_options.StopWhenEmpty ? ClaimOutcome.Empty : ClaimOutcome.Idle);
    }

    /// <summary>
    /// With no task waiting: one blocking wait on the tokens of every queue not paused (which Redis serves in the order
    /// given), and a claim of what woke it. A token without a task behind it is a timeout's race or a surplus token: not an error.
    /// </summary>
    private async Task<Claim> WaitAndClaimAsync(Slot slot, DelayedQueue[] order, string stamp, CancellationToken stop)
    {
        if (slot.PausedQueues is { } paused) order = Array.FindAll(order, q => Array.IndexOf(paused, q) < 0);
        // One queue (a token taken is then its own) and no reply to recheck: the claim goes right behind the wait.
        if (order.Length == 1 && !slot.ReplyLost && slot.ClaimsBehindWaits && slot.Direct is { } direct
            && order[0].WaitThenClaimAsync(direct, slot.Id, stamp, IdleWait(), _options.Limits.MaxTaskBytes) is { } waited)
        {
            ClaimReply reply;
            try
            {
                reply = await waited.ConfigureAwait(false);
            }
            catch (DirectConnectionLostException e)
            {
                // Either way the claim behind the wait may have run (after a refused wait, with a token another slot's lost
                // wait left in the waking list): the next claim hands back a task it took. Refused: the slot waits the plain
                // way from now on. Lost: a token the wait may have moved is put back once Redis answers.
                slot.ReplyLost = true;
                if (e.Refused) slot.ClaimsBehindWaits = false;
                else slot.WakingTokenLeftIn = order[0];
                return new Claim(ClaimOutcome.Nothing);
            }
            // A claim that a stop overtook goes back unchanged before it starts (RunAsync).
            return reply.Claimed ? new Claim(ClaimOutcome.Task, reply, order[0]) : new Claim(ClaimOutcome.Nothing);
        }
        var woken = await DelayedQueue.WaitForTokenAsync(slot.SpareAsync, order, IdleWait(), slot.Direct).ConfigureAwait(false);
        if (woken < 0) return new Claim(ClaimOutcome.Nothing);
        if (stop.IsCancellationRequested)
        {
            await order[woken].ReturnTokenAsync().ConfigureAwait(false);
            return new Claim(ClaimOutcome.Nothing);
        }
        // On the connection the token came from: a token taken must pay for a task on the same server. A wait on the slot's
        // direct connection continues on its thread, which then claims at once without handing the call to another thread.
        var taken = await order[woken].FinishAndClaimAsync(slot.Id, ClaimMode.TokenTaken, stamp, null, _options.Limits.MaxTaskBytes, replyLost: slot.ReplyLost,
            direct: slot.ClaimConnection).ConfigureAwait(false);
        return taken.Claimed ? new Claim(ClaimOutcome.Task, taken, order[woken]) : new Claim(ClaimOutcome.Nothing);
    }

    /// <summary>What a slot does after a claim that brought no task, before it claims again.</summary>
    private async Task AfterNoTaskAsync(Slot slot, ClaimOutcome outcome, CancellationToken stop)
    {
        switch (outcome)
        {
            case ClaimOutcome.Paused:
                // Suspend-DelayedQueue: take nothing, and look again after a dequeue timeout (a token taken was put back).
                if (Interlocked.Exchange(ref _paused, 1) == 0) Emit(new WorkerEvent(WorkerEventKind.QueuePaused, Names, slot.Id));
                await PauseAsync(_options.DequeueTimeout, stop).ConfigureAwait(false);
                break;
            case ClaimOutcome.Unregistered:
                if (++slot.Unregistered > 1) await slot.Backoff.WaitAsync(stop).ConfigureAwait(false);
                break;
            case ClaimOutcome.Failed:
                await slot.Backoff.WaitAsync(stop).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Runs one claimed task and says how to finish it; a tracked task's finish updates its record too, with its output.</summary>
    private async Task<Finish> ExecuteAsync(DelayedQueue queue, Slot slot, ClaimReply claimed, string stamp, CancellationToken stop)
    {
        var id = slot.Id;
        if (claimed.TrackingId is not { } trackingId) return await RunAsync(queue, slot, claimed, stamp, null, stop).ConfigureAwait(false);
        using var run = new TrackedRun(trackingId);
        _trackedRuns[id] = run;
        Finish finish;
        try
        {
            finish = await RunAsync(queue, slot, claimed, stamp, run, stop).ConfigureAwait(false);
        }
        finally
        {
            _trackedRuns.TryRemove(id, out _);
        }
        var output = run.Context?.Output;
        if (output is null && run.Context?.Result is { } result && _options.ResultSerializer is { } serialize)
        {
            try
            {
                output = serialize(result);
            }
            catch (Exception e)
            {
                Emit(new WorkerEvent(WorkerEventKind.WorkerError, queue.Name, id, run.Context.Task, error: new InvalidOperationException(
                    $"The value task '{run.Context.Task.Name}' returned could not be kept as its output: {e.Message}", e)));
            }
        }
        return finish.Tracked(trackingId, output, claimed.Attempts + 1, run.Clock.Elapsed);
    }

    /// <summary>What a tracked task's finish needs from its run, and how its caller stops it.</summary>
    private sealed class TrackedRun : IDisposable
    {
        public TrackedRun(string trackingId) => TrackingId = trackingId;

        public string TrackingId { get; }

        public TaskContext? Context { get; set; }

        public Stopwatch Clock { get; } = Stopwatch.StartNew();

        /// <summary>Cancelled when its caller asks to stop it (Stop-Job).</summary>
        public CancellationTokenSource StopRequest { get; } = new();

        public void Dispose() => StopRequest.Dispose();
    }

    /// <summary>The tracked task each slot runs, by slot id, for stop requests.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TrackedRun> _trackedRuns = new(StringComparer.Ordinal);

    /// <summary>Stop-Job on a tracked task this worker runs (heard at a keep-alive): its handler is stopped as on a timeout.</summary>
    private void OnStopRequest(string slot, string trackingId)
    {
        if (_trackedRuns.TryGetValue(slot, out var run) && run.TrackingId == trackingId)
        {
            try
            {
                run.StopRequest.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // It ended meanwhile.
            }
        }
    }

    /// <summary>Runs one claimed task and says how to finish it: every outcome ends in exactly one place.</summary>
    private async Task<Finish> RunAsync(DelayedQueue queue, Slot slot, ClaimReply claimed, string stamp, TrackedRun? tracked, CancellationToken stop)
    {
        var id = slot.Id;
        var raw = claimed.Task!;
        // A stop requested while the claim was on its way: no task starts after a stop (what a stop waits for, and what
        // Ctrl+C's notice names, is the tasks already running). This one goes back unchanged, as an interrupted one does.
        if (stop.IsCancellationRequested) return Finish.Requeue(stamp, raw);
        var attempt = claimed.Attempts + 1;
        ITaskHandler? handler;
        DelayedTask task;
        try
        {
            // The handler first: a task this worker cannot run costs it no decoding of its arguments.
            var name = TaskDecoder.ReadName(raw, _options.Limits);
            handler = _registry.Resolve(name);
            if (handler is null) return Return(queue, id, stamp, raw, name, claimed.Returns);
            task = TaskDecoder.Decode(raw, _options.Limits);
        }
        catch (MalformedTaskException e)
        {
            return Failed(queue, id, stamp, null, raw, FailureReason.Malformed, e, claimed.Attempts, default);
        }

        if (_options.OnEvent is not null) Emit(new WorkerEvent(WorkerEventKind.TaskStarted, queue.Name, id, task, attempt: attempt));
        DelayedMetrics.TaskStarted(queue.Name, task.Name, claimed.WaitedMilliseconds);
        var clock = Stopwatch.StartNew();
        // A source of its own only for a task that can time out or be stopped by its caller: the others take the worker's
        // stop token as it is, which saves two sources and a registration on that shared token per task.
        using var timeout = _options.TaskTimeout is { } limit ? new CancellationTokenSource(limit) : tracked is not null ? new CancellationTokenSource() : null;
        // Stop-Job stops a handler the way a timeout does; the outcome then says stopped, not timed out.
        using var stopRequested = tracked?.StopRequest.Token.Register(() => timeout!.Cancel());
        using var cancel = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
        try
        {
            var context = new TaskContext(task, queue.Name, id, attempt, claimed.TrackingId, cancel?.Token ?? stop, timeout?.Token ?? CancellationToken.None, _interrupting.Token);
            if (tracked is not null) tracked.Context = context;
            // A handler starts on a thread of the slot's own: where the claim's reply came (the slot's direct connection's
            // thread), or its handler thread; never on the thread pool, which a blocking handler would starve.
            await (handler is ISelfDispatchingTaskHandler || slot.Direct?.IsCurrentThread == true
                ? handler.InvokeAsync(context)
                : slot.HandlerThread.RunAsync(() => handler.InvokeAsync(context))).ConfigureAwait(false);
            Interlocked.Increment(ref _succeeded);
            DelayedMetrics.TaskProcessed(queue.Name, task.Name, "succeeded", duration: clock.Elapsed);
            // After a lapse, a success is reported with what the lapse may have done to it.
            var recovered = _lapsed.IsEmpty ? null : await RecoveredDuringLapseAsync(queue, id, stamp).ConfigureAwait(false);
            if (_options.OnEvent is not null) Emit(new WorkerEvent(WorkerEventKind.TaskSucceeded, queue.Name, id, task, error: recovered, duration: clock.Elapsed, attempt: attempt));
            return Finish.Release(stamp);
        }
        catch (Exception) when (tracked is { StopRequest.IsCancellationRequested: true })
        {
            // Stopped by its caller (Stop-Job): not retried, not a failure to keep.
            Interlocked.Increment(ref _failed);
            DelayedMetrics.TaskProcessed(queue.Name, task.Name, "stopped", duration: clock.Elapsed);
            Emit(new WorkerEvent(WorkerEventKind.TaskStopped, queue.Name, id, task, duration: clock.Elapsed, attempt: attempt));
            return Finish.Stopped(stamp, "Stop-Job");
        }
        catch (Exception e) when (timeout?.IsCancellationRequested != true && (e is TaskInterruptedException || stop.IsCancellationRequested && e is OperationCanceledException))
        {
            // Interrupted by a stop request, not failed: put it back unchanged, budget and counters untouched. A handler
            // that says so may have heard of the stop first: the worker stops too.
            if (e is TaskInterruptedException) RequestStop();
            Interlocked.Increment(ref _retried);
            DelayedMetrics.TaskProcessed(queue.Name, task.Name, "interrupted", duration: clock.Elapsed);
            Emit(new WorkerEvent(WorkerEventKind.TaskInterrupted, queue.Name, id, task, error: e, duration: clock.Elapsed, attempt: attempt));
            return Finish.Requeue(stamp, raw);
        }
        catch (Exception e) when (e is not TaskBindingException && task.Format == TaskFormat.Python && task.Retry != 0)
        {
            // The handler ran and failed, and the budget allows another attempt (checklist 21, 22), after a back-off.
            Interlocked.Increment(ref _retried);
            DelayedMetrics.TaskProcessed(queue.Name, task.Name, "retried", duration: clock.Elapsed);
            var wait = RetryDelays.Next(attempt, _options.RetryDelay, _options.MaxRetryDelay);
            Emit(new WorkerEvent(WorkerEventKind.TaskRetried, queue.Name, id, task, error: e, duration: clock.Elapsed, attempt: attempt, retryIn: wait));
            var retry = TaskEncoder.EncodeRetry(task);
            return wait == TimeSpan.Zero
                ? Finish.Requeue(stamp, retry, "a", attempt)
                : Finish.Schedule(stamp, retry, wait, "a", attempt);
        }
        catch (Exception e)
        {
            var reason = e is TaskBindingException ? FailureReason.BadCall
                : timeout?.IsCancellationRequested == true && e is OperationCanceledException ? FailureReason.TimedOut
                : FailureReason.Failed;
            return Failed(queue, id, stamp, task, raw, reason, e, reason == FailureReason.BadCall ? claimed.Attempts : attempt, clock.Elapsed);
        }
    }

    /// <summary>
    /// A slot's liveness key had lapsed (the process was paused past the keep-alive timeout, or Redis lost its data)
    /// and was written again: reported once per lapse. A sweep may have recovered the task the slot was running,
    /// which the slot checks when that task ends.
    /// </summary>
    private void OnLapse(string id)
    {
        _lapsed[id] = true;
        Emit(new WorkerEvent(WorkerEventKind.WorkerError, _queue.Name, id, error: new InvalidOperationException(
            $"The liveness key of worker {id} had lapsed (the process was paused for longer than the keep-alive timeout, or Redis " +
            "lost its data): a sweep may have recovered the task it was running, which may then run again elsewhere. " +
            "The worker registered again under the same id.")));
    }

    /// <summary>
    /// After a lapse: whether a sweep took the task this slot ran from under it. One round trip, only after a lapse.
    /// </summary>
    private async Task<Exception?> RecoveredDuringLapseAsync(DelayedQueue queue, string id, string stamp)
    {
        if (!_lapsed.TryRemove(id, out _)) return null;
        try
        {
            if (await queue.HoldsAsync(id, stamp).ConfigureAwait(false)) return null;
        }
        catch (Exception e)
        {
            return e;
        }
        return new InvalidOperationException(
            $"A sweep recovered this task while worker {id} had lapsed: it ran to its end here, but may run (or have run) again elsewhere.");
    }

    /// <summary>No handler here: back into the schedule for a worker that has one, until the bound; then a failure.</summary>
    private Finish Return(DelayedQueue queue, string id, string stamp, byte[] raw, string name, long returns)
    {
        var error = new UnknownTaskException(name);
        if (returns >= _options.MaxReturns)
            return Failed(queue, id, stamp, null, raw, FailureReason.NoHandler, new UnknownTaskException(name, returns), 0, default, name);
        Interlocked.Increment(ref _returned);
        DelayedMetrics.TaskProcessed(queue.Name, name, "returned");
        var wait = RetryDelays.Ceiling(returns + 1, _options.RetryDelay < WorkerOptions.MinReturnDelay ? WorkerOptions.MinReturnDelay : _options.RetryDelay,
            WorkerOptions.MaxReturnDelay);
        // Warned once per name, not once per task: the event says whether this is the first.
        var first = _returnedNames.TryAdd(name, true);
        Emit(new WorkerEvent(WorkerEventKind.TaskReturned, queue.Name, id, rawTask: raw, error: first ? error : null, retryIn: wait, taskName: name));
        return Finish.Schedule(stamp, raw, wait, "n", returns + 1);
    }

    private Finish Failed(DelayedQueue queue, string id, string stamp, DelayedTask? task, byte[] raw, FailureReason reason, Exception error, long attempts, TimeSpan duration, string? name = null)
    {
        Interlocked.Increment(ref _failed);
        DelayedMetrics.TaskProcessed(queue.Name, task?.Name ?? name, "failed", reason.ToString(), duration == default ? null : duration);
        Emit(new WorkerEvent(WorkerEventKind.TaskFailed, queue.Name, id, task, raw, error, duration, reason, attempts, taskName: name));
        return Finish.Fail(stamp, reason, error.Message, attempts);
    }

    /// <summary>Finishes a task without claiming another (the last before going offline, or one put back); a few tries, then the sweeper's turn.</summary>
    private async Task FinishLastAsync(DelayedQueue queue, string id, Finish held)
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2));
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                await queue.FinishAndClaimAsync(id, ClaimMode.None, "", held).ConfigureAwait(false);
                return;
            }
            catch (Exception e)
            {
                Emit(new WorkerEvent(WorkerEventKind.WorkerError, _queue.Name, id, error: e));
                await backoff.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The BLPOP timeout of one idle wait: a random time between half the dequeue timeout and all of it, where the
    /// server takes fractions. Redis hands a token to the client that has waited longest, so idle workers with equal
    /// timeouts keep one order for ever; the jitter reshuffles it, and a worker that cannot run a task (and put it
    /// back) does not win it every time over one that can.
    /// </summary>
    private TimeSpan IdleWait()
    {
        var full = _options.DequeueTimeout;
        if (!_fractionalTimeouts || full < TimeSpan.FromMilliseconds(20)) return full;
        var ms = full.TotalMilliseconds * (0.5 + 0.5 * Jitter.Value!.NextDouble());
        return TimeSpan.FromMilliseconds(Math.Max(10, Math.Round(ms)));
    }

    /// <summary>
    /// The queues a slot holding a task claims its next from: in strict priority, those up to the held task's (a task
    /// of a later queue cannot go first while they hold one, and each further queue adds six keys for Redis to read per
    /// claim: three queues 28 keys, one 13); when those hold none, the claim goes over all of them. Otherwise (no task
    /// held, weighted shares) this claim's whole order.
    /// </summary>
    private DelayedQueue[] BusyClaimOrder(Slot slot, DelayedQueue[] order) =>
        slot.Held is not null && _priorityPrefixes is { } prefixes ? prefixes[Array.IndexOf(_queues, slot.HeldQueue)] : order;

    /// <summary>
    /// The order in which a claim tries the queues: as given (strict priority), or with WeightedQueues a random order
    /// in which the queue at place i of n comes first with probability (n − i) / (1 + … + n): when all are busy, the
    /// first of three gets half the tasks, the second a third, the last a sixth, and none is starved.
    /// </summary>
    private DelayedQueue[] ClaimOrder()
    {
        if (_queues.Length == 1 || !_options.WeightedQueues) return _queues;
        var remaining = _queues.Select((q, i) => (Queue: q, Weight: _queues.Length - i)).ToList();
        var order = new DelayedQueue[_queues.Length];
        var random = Jitter.Value!;
        for (var k = 0; k < order.Length; k++)
        {
            var pick = random.Next(remaining.Sum(r => r.Weight));
            var at = 0;
            while (pick >= remaining[at].Weight) pick -= remaining[at++].Weight;
            order[k] = remaining[at].Queue;
            remaining.RemoveAt(at);
        }
        return order;
    }

    private static readonly ThreadLocal<Random> Jitter = new(() => new Random(Guid.NewGuid().GetHashCode()));

    private bool TryReserve()
    {
        if (_options.MaxTasks == 0) return true;
        if (Interlocked.Increment(ref _reserved) <= _options.MaxTasks) return true;
        Interlocked.Decrement(ref _reserved);
        return false;
    }

    private void Unreserve()
    {
        if (_options.MaxTasks != 0) Interlocked.Decrement(ref _reserved);
    }

    private static string NewStamp(long claim) =>
        claim.ToString(CultureInfo.InvariantCulture) + ":" + DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    private static Task<bool> PauseAsync(TimeSpan delay, CancellationToken stop) => QuietDelay.WaitAsync(delay, stop);

    private void Emit(WorkerEvent workerEvent)
    {
        try
        {
            _options.OnEvent?.Invoke(workerEvent);
        }
        catch
        {
            // A failing observer must not stop the worker or lose a task.
        }
    }
}
