using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Queue;

namespace Delayed.Core.Worker;

/// <summary>
/// Refreshes the liveness keys of a worker's slots, independently of task execution, and hears with each refresh
/// whether a slot is asked to stop the tracked task it runs (Stop-Job). While a refresh fails,
/// <see cref="Healthy"/> is false and the slots take no new tasks: a sweep could otherwise take a task from under a live worker.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Its semaphore never hands out a wait handle: nothing to release.")]
internal sealed class KeepAliveLoop
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private readonly IReadOnlyList<string> _ids;
    private readonly WorkerOptions _options;
    private readonly Action<Exception> _onError;
    private readonly Action<string> _onLapse;
    private readonly Action<string, string>? _onStopRequest;
    private readonly Action? _onWorkerStopRequest;
    private readonly Action<TimeSpan>? _onRecovered;
    private readonly FailureStreak _failures = new(); // refreshes take turns (below)
    private readonly IReadOnlyList<DelayedQueue> _queues;
    private readonly WorkerDescription _description;
    private volatile bool _healthy = true;
    // One refresh at a time: the loop and every slot that found its key gone refresh all keys, and a lapse is found by a
    // refresh that reads the key before another has written it again; two at once would both find it, and report it twice.
    private readonly SemaphoreSlim _refreshing = new(1, 1);

    /// <param name="queues">The worker's queues: the first holds its liveness keys; a stop request in any of them is heard.</param>
    /// <param name="ids">The ids of the worker's slots.</param>
    /// <param name="options">The keep-alive timeout and interval.</param>
    /// <param name="description">What a lapsed slot registers again with.</param>
    /// <param name="onError">Called when a refresh fails.</param>
    /// <param name="onLapse">Called with the id of a slot whose liveness key had lapsed and was written again.</param>
    /// <param name="onStopRequest">Called with a slot's id and the id of the tracked task it is asked to stop (Stop-Job).</param>
    /// <param name="onWorkerStopRequest">Called when the worker is asked to stop (Stop-DelayedWorker), which its claims may not have heard yet.</param>
    /// <param name="onRecovered">Called when a refresh works after failures, with how long they lasted.</param>
    public KeepAliveLoop(IReadOnlyList<DelayedQueue> queues, IReadOnlyList<string> ids, WorkerOptions options, WorkerDescription description,
        Action<Exception> onError, Action<string> onLapse, Action<string, string>? onStopRequest = null, Action? onWorkerStopRequest = null,
        Action<TimeSpan>? onRecovered = null)
    {
        _onRecovered = onRecovered;
        _onStopRequest = onStopRequest;
        _onWorkerStopRequest = onWorkerStopRequest;
        _queues = queues;
        _ids = ids;
        _options = options;
        _description = description;
        _onError = onError;
        _onLapse = onLapse;
    }

    public bool Healthy => _healthy;

    /// <summary>One refresh of every id; <see cref="Healthy"/> tells how it went.</summary>
    public async Task RefreshAsync()
    {
        await _refreshing.WaitAsync().ConfigureAwait(false);
        try
        {
            var replies = await Task.WhenAll(_ids.Select(id => _queues[0].KeepAliveAsync(id, _options.KeepAliveSeconds, _description, _queues))).ConfigureAwait(false);
            _healthy = true;
            if (_failures.Ended() is { } lasted) _onRecovered?.Invoke(lasted);
            for (var i = 0; i < replies.Length; i++)
            {
                if (!replies[i].Alive) _onLapse(_ids[i]);
                if (replies[i].StopTracked is { } tracked) _onStopRequest?.Invoke(_ids[i], tracked);
                if (replies[i].StopRequested) _onWorkerStopRequest?.Invoke();
            }
        }
        catch (Exception e)
        {
            _healthy = false;
            _failures.Failed();
            _onError(e);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>
    /// Refreshes every interval (every second while failing) until <paramref name="stop"/>; returns only then,
    /// so the caller can go offline after it. The caller makes the first refresh.
    /// </summary>
    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var delay = _healthy || _options.KeepAliveInterval < RetryDelay ? _options.KeepAliveInterval : RetryDelay;
            if (!await QuietDelay.WaitAsync(delay, stop).ConfigureAwait(false)) return;
            await RefreshAsync().ConfigureAwait(false);
        }
    }
}
