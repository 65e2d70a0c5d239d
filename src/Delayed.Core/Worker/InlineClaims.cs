using System;

namespace Delayed.Core.Worker;

/// <summary>
/// Marks the calling thread as one that runs a worker's handlers itself, as a PowerShell pipeline thread pumping a
/// foreground worker's scriptblocks does: a busy slot whose code continues on this thread then makes its direct claims
/// here too, writing the call and reading the reply on this thread, instead of handing each call to its connection's
/// thread and being handed the reply back. On busy cores every such hand-off waits for a core (bench/README.md, "The
/// floor"); with this, a foreground worker on a busy streak switches no thread per task.
/// </summary>
/// <remarks>
/// The thread blocks for each claim's round trip (bounded by the connection's timeouts), which is what it would
/// otherwise spend waiting for the reply to be handed over. Only a slot's direct connection honours it; everything
/// else stays asynchronous.
/// </remarks>
public static class InlineClaims
{
    [ThreadStatic]
    private static bool t_here;

    /// <summary>Whether direct claims made on the calling thread are made inline.</summary>
    internal static bool Here => t_here;

    /// <summary>Until disposed (on the same thread), direct claims made on the calling thread are made inline.</summary>
    public static IDisposable OnThisThread()
    {
        var before = t_here;
        t_here = true;
        return new Scope(before);
    }

    private sealed class Scope : IDisposable
    {
        private readonly bool _before;

        public Scope(bool before) => _before = before;

        public void Dispose() => t_here = _before;
    }
}
