using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Queue;

namespace Delayed.Core.Worker;

/// <summary>
/// Refreshes the liveness keys of a worker's slots, independently of task execution. While a refresh
/// fails, <see cref="Healthy"/> is false and the slots take no new tasks (D12).
/// </summary>
internal sealed class KeepAliveLoop
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private readonly DelayedQueue _queue;
    private readonly IReadOnlyList<string> _ids;
    private readonly WorkerOptions _options;
    private readonly Action<Exception> _onError;
    private volatile bool _healthy = true;

    public KeepAliveLoop(DelayedQueue queue, IReadOnlyList<string> ids, WorkerOptions options, Action<Exception> onError)
    {
        _queue = queue;
        _ids = ids;
        _options = options;
        _onError = onError;
    }

    public bool Healthy => _healthy;

    /// <summary>One refresh of every id; <see cref="Healthy"/> tells how it went.</summary>
    public async Task RefreshAsync()
    {
        try
        {
            await Task.WhenAll(_ids.Select(id => _queue.KeepAliveAsync(id, _options.KeepAliveSeconds))).ConfigureAwait(false);
            _healthy = true;
        }
        catch (Exception e)
        {
            _healthy = false;
            _onError(e);
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
            try
            {
                await Task.Delay(delay, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            await RefreshAsync().ConfigureAwait(false);
        }
    }
}
