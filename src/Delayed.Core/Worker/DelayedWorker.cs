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
using Delayed.Core.Redis;

namespace Delayed.Core.Worker;

/// <summary>
/// Takes tasks from one queue and dispatches them by exact name to a registry (PROTOCOL.md section 4).
/// A busy slot finishes its task and claims the next in one round trip; only an idle slot blocks, on a
/// connection of its own. Every task that is not re-enqueued is released. A graceful stop finishes the
/// running tasks, releases them, ends the keep-alive loop, and only then deletes the liveness keys.
/// </summary>
public sealed class DelayedWorker
{
    private static readonly TimeSpan UnhealthyPause = TimeSpan.FromMilliseconds(250);
    private readonly DelayedQueue _queue;
    private readonly ITaskHandlerRegistry _registry;
    private readonly WorkerOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private KeepAliveLoop? _keepAlive;
    private long _reserved, _succeeded, _failed, _retried, _dropped;

    public DelayedWorker(DelayedQueue queue, ITaskHandlerRegistry registry, WorkerOptions? options = null)
    {
        _queue = queue;
        _registry = registry;
        _options = options ?? new WorkerOptions();
        _options.Validate();
    }

    /// <summary>The ids of the slots, one per concurrent task; filled in once the worker has registered.</summary>
    public IReadOnlyList<string> WorkerIds { get; private set; } = Array.Empty<string>();

    /// <summary>Asks the worker to stop gracefully: no new task, running ones finish. Safe from any thread.</summary>
    public void RequestStop() => _stopping.Cancel();

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
        var blocking = new List<BlockingConnection>();
        var handlerThreads = new List<HandlerThread>();
        using var keepAliveStop = new CancellationTokenSource();
        Task? keepAliveTask = null;
        try
        {
            // The liveness key is written before the first dequeue (PROTOCOL.md 4.1).
            var description = WorkerDescription.OfThisProcess(_options.KeepAliveSeconds);
            for (var i = 0; i < _options.Concurrency; i++) ids.Add(await RegisterAsync(description).ConfigureAwait(false));
            WorkerIds = ids;
            _keepAlive = new KeepAliveLoop(_queue, ids, _options, e => Emit(new WorkerEvent(WorkerEventKind.WorkerError, _queue.Name, ids[0], error: e)));
            // The first refresh before any slot starts: a worker that cannot refresh its key takes no task (D12).
            await _keepAlive.RefreshAsync().ConfigureAwait(false);
            keepAliveTask = Task.Run(() => _keepAlive.RunAsync(keepAliveStop.Token));
            foreach (var _ in ids) blocking.Add(await _queue.Connection.OpenBlockingAsync(_options.DequeueTimeout).ConfigureAwait(false));
            for (var slot = 0; slot < ids.Count; slot++) handlerThreads.Add(new HandlerThread($"Delayed worker slot {slot + 1}"));
            await Task.WhenAll(ids.Select((id, slot) => Task.Run(() => RunSlotAsync(id, blocking[slot], handlerThreads[slot], stop)))).ConfigureAwait(false);
        }
        finally
        {
            keepAliveStop.Cancel();
            if (keepAliveTask is not null) await keepAliveTask.ConfigureAwait(false);
            // Only after the keep-alive loop has ended, so no SETEX can follow the DEL (D10).
            foreach (var id in ids) await GoOfflineAsync(id).ConfigureAwait(false);
            foreach (var connection in blocking) connection.Dispose();
            foreach (var thread in handlerThreads) thread.Dispose();
        }
        return new WorkerSummary
        {
            Succeeded = _succeeded, Failed = _failed, Retried = _retried, Dropped = _dropped, Duration = clock.Elapsed,
        };
    }

    private async Task<string> RegisterAsync(WorkerDescription description)
    {
        // 128 random bits: a conflict is next to impossible, but SET NX makes sure (D11).
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
            await _queue.GoOfflineAsync(id).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The key then expires by itself after the keep-alive timeout.
            Emit(new WorkerEvent(WorkerEventKind.WorkerError, _queue.Name, id, error: e));
        }
    }

    private async Task RunSlotAsync(string id, BlockingConnection blocking, HandlerThread handlerThread, CancellationToken stop)
    {
        var backoff = new Backoff(_options.InitialBackoff, _options.MaxBackoff);
        Held? held = null;
        long claims = 0;
        var unregistered = 0;
        while (!stop.IsCancellationRequested)
        {
            if (!_keepAlive!.Healthy)
            {
                await PauseAsync(UnhealthyPause, stop).ConfigureAwait(false);
                continue;
            }
            if (!TryReserve()) break;
            var stamp = NewStamp(++claims);
            byte[]? claimed;
            try
            {
                var reply = await _queue.FinishAndClaimAsync(id, ClaimMode.TakeToken, stamp, held?.Stamp, held?.Requeue).ConfigureAwait(false);
                held = null;
                if (reply.StopRequested)
                {
                    // Stop-DelayedWorker: the whole worker stops after its running tasks.
                    Unreserve();
                    RequestStop();
                    break;
                }
                if (reply.Unregistered)
                {
                    // The liveness key expired (a paused process) or Redis lost it: write it again before taking a
                    // task, so that no sweeper takes the task for a dead worker's.
                    Unreserve();
                    Emit(new WorkerEvent(WorkerEventKind.WorkerError, _queue.Name, id, error: new InvalidOperationException(
                        $"The liveness key of worker {id} was gone (the process was paused for longer than the keep-alive timeout, " +
                        "or Redis lost its data), so its last task may have been recovered and run again elsewhere. It was written again.")));
                    await _keepAlive.RefreshAsync().ConfigureAwait(false);
                    if (++unregistered > 1) await backoff.WaitAsync(stop).ConfigureAwait(false);
                    continue;
                }
                unregistered = 0;
                claimed = reply.Task;
                if (claimed is null)
                {
                    if (_options.StopWhenEmpty)
                    {
                        Unreserve();
                        break;
                    }
                    if (await _queue.WaitForTokenAsync(blocking, _options.DequeueTimeout).ConfigureAwait(false))
                    {
                        if (stop.IsCancellationRequested) await _queue.ReturnTokenAsync().ConfigureAwait(false);
                        else claimed = (await _queue.FinishAndClaimAsync(id, ClaimMode.TokenTaken, stamp, null, null).ConfigureAwait(false)).Task;
                    }
                }
                backoff.Reset();
            }
            catch (Exception e)
            {
                Unreserve();
                Emit(new WorkerEvent(WorkerEventKind.WorkerError, _queue.Name, id, error: e, duration: backoff.Next));
                await backoff.WaitAsync(stop).ConfigureAwait(false);
                continue;
            }
            if (claimed is null)
            {
                Unreserve(); // a timeout, or a surplus token (D1): not an error, no back-off
                continue;
            }
            held = await ExecuteAsync(id, claimed, stamp, handlerThread, stop).ConfigureAwait(false);
        }
        if (held is not null) await FinishLastAsync(id, held).ConfigureAwait(false);
    }

    private async Task<Held> ExecuteAsync(string id, byte[] raw, string stamp, HandlerThread handlerThread, CancellationToken stop)
    {
        DelayedTask task;
        try
        {
            task = TaskDecoder.Decode(raw, _options.Limits);
        }
        catch (MalformedTaskException e)
        {
            Interlocked.Increment(ref _dropped);
            Emit(new WorkerEvent(WorkerEventKind.TaskDropped, _queue.Name, id, rawTask: raw, error: e));
            return new Held(stamp, null);
        }
        var handler = _registry.Resolve(task.Name);
        if (handler is null)
        {
            Interlocked.Increment(ref _dropped);
            Emit(new WorkerEvent(WorkerEventKind.TaskDropped, _queue.Name, id, task, error: new UnknownTaskException(task.Name)));
            return new Held(stamp, null);
        }

        Emit(new WorkerEvent(WorkerEventKind.TaskStarted, _queue.Name, id, task));
        var clock = Stopwatch.StartNew();
        using var timeout = _options.TaskTimeout is { } limit ? new CancellationTokenSource(limit) : new CancellationTokenSource();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
        try
        {
            var context = new TaskContext(task, _queue.Name, id, cancel.Token, timeout.Token);
            await (handler is ISelfDispatchingTaskHandler
                ? handler.InvokeAsync(context)
                : handlerThread.RunAsync(() => handler.InvokeAsync(context))).ConfigureAwait(false);
            Interlocked.Increment(ref _succeeded);
            Emit(new WorkerEvent(WorkerEventKind.TaskSucceeded, _queue.Name, id, task, duration: clock.Elapsed));
            return new Held(stamp, null);
        }
        catch (Exception e) when (stop.IsCancellationRequested && e is OperationCanceledException)
        {
            // Interrupted by a stop request, not failed: put it back unchanged, budget untouched.
            Interlocked.Increment(ref _retried);
            Emit(new WorkerEvent(WorkerEventKind.TaskInterrupted, _queue.Name, id, task, error: e, duration: clock.Elapsed));
            return new Held(stamp, raw);
        }
        catch (Exception e) when (e is not TaskBindingException && task.Format == TaskFormat.Python && task.Retry != 0)
        {
            // The handler ran and failed, and the budget allows another attempt (checklist 21, 22).
            Interlocked.Increment(ref _retried);
            Emit(new WorkerEvent(WorkerEventKind.TaskRetried, _queue.Name, id, task, error: e, duration: clock.Elapsed));
            return new Held(stamp, TaskEncoder.EncodeRetry(task));
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref _failed);
            Emit(new WorkerEvent(WorkerEventKind.TaskFailed, _queue.Name, id, task, error: e, duration: clock.Elapsed));
            return new Held(stamp, null);
        }
    }

    /// <summary>Releases (or re-enqueues) the last task before going offline; a few tries, then the sweeper's turn.</summary>
    private async Task FinishLastAsync(string id, Held held)
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2));
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                await _queue.FinishAndClaimAsync(id, ClaimMode.None, "", held.Stamp, held.Requeue).ConfigureAwait(false);
                return;
            }
            catch (Exception e)
            {
                Emit(new WorkerEvent(WorkerEventKind.WorkerError, _queue.Name, id, error: e));
                await backoff.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

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

    private static async Task PauseAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

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

    /// <summary>The claim a slot still has to finish, and what to re-enqueue when it does.</summary>
    private sealed class Held
    {
        public Held(string stamp, byte[]? requeue)
        {
            Stamp = stamp;
            Requeue = requeue;
        }

        public string Stamp { get; }
        public byte[]? Requeue { get; }
    }
}
