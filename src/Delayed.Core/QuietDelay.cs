using System;
using System.Threading;
using System.Threading.Tasks;

namespace Delayed.Core;

/// <summary>A wait that a stop cuts short without an exception: the loops of workers, sweepers and promoters stop on their token, not on a throw.</summary>
public static class QuietDelay
{
    /// <summary>Waits <paramref name="delay"/>; false when <paramref name="stop"/> cut it short.</summary>
    public static async Task<bool> WaitAsync(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
