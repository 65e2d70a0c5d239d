using System;
using System.Threading;
using System.Threading.Tasks;

namespace Delayed.Core.Worker;

/// <summary>Error back-off of the worker loop: 1 s, doubling, capped at 60 s, reset after a call that did not fail.</summary>
internal sealed class Backoff
{
    private readonly TimeSpan _initial, _max;

    public Backoff(TimeSpan initial, TimeSpan max)
    {
        _initial = initial;
        _max = max;
        Next = initial;
    }

    public TimeSpan Next { get; private set; }

    public void Reset() => Next = _initial;

    /// <summary>Waits the current delay (cut short by <paramref name="stop"/>) and doubles it for next time.</summary>
    public async Task WaitAsync(CancellationToken stop)
    {
        var delay = Next;
        Next = TimeSpan.FromTicks(Math.Min(_max.Ticks, delay.Ticks * 2));
        // Stryker disable once Boolean : no code of the worker installs a synchronization context to return to.
        await QuietDelay.WaitAsync(delay, stop).ConfigureAwait(false);
    }
}
