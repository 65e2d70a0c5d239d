using System;
using System.Collections.Concurrent;

namespace Delayed.PowerShell.Reporting;

/// <summary>
/// Failures that a loop meets again and again without backing off, which are not Redis being out of reach
/// (<see cref="TransientFailure"/> says those): the promotion of due scheduled tasks tries each second, so a queue whose
/// key has another type, or which the account may not touch, would write an error a second. Each failure, by what
/// failed, is said when it begins and again once a minute while it lasts, with how long; the repeats in between go to
/// -Verbose. Used from the threads of one loop's callbacks at once: thread-safe.
/// </summary>
internal sealed class RepeatedFailures
{
    private readonly ConcurrentDictionary<string, Outage> _failing = new(StringComparer.Ordinal);

    /// <summary>A failure of <paramref name="what"/>: whether to say it now, and how long it has lasted (zero when it begins).</summary>
    public (bool Say, TimeSpan Lasting) Failed(string what)
    {
        var (say, lasting) = _failing.GetOrAdd(what, _ => new Outage()).Failed(DateTime.UtcNow);
        return (say != Outage.Say.Nothing, lasting);
    }

    /// <summary>What failed works again: its next failure is said at once.</summary>
    public void Ended(string what) => _failing.TryRemove(what, out _);

    /// <summary>Everything whose name starts with <paramref name="prefix"/> works again.</summary>
    public void EndedAll(string prefix)
    {
        foreach (var what in _failing.Keys)
            if (what.StartsWith(prefix, StringComparison.Ordinal)) _failing.TryRemove(what, out _);
    }
}
