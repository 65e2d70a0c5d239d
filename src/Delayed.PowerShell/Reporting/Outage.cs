using System;

namespace Delayed.PowerShell.Reporting;

/// <summary>
/// What a worker says while Redis does not answer: every slot's claims, the keep-alive loop and the schedule's promoter
/// each fail, again and again with back-off, so one warning starts an outage, a reminder follows at most once a minute,
/// and the first claim answered again ends it. Failures more than a minute apart are separate outages (a loop that
/// failed once does not say when it works again).
/// </summary>
internal sealed class Outage
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMinutes(1);
    private readonly object _gate = new();
    private DateTime? _since;
    private DateTime _lastFailure, _lastSaid;

    public enum Say
    {
        /// <summary>The outage begins: warn.</summary>
        Begins,

        /// <summary>It goes on, and nothing was said for a minute: warn again, with how long.</summary>
        Continues,

        /// <summary>Said already: details only.</summary>
        Nothing,
    }

    /// <summary>A failure because Redis did not answer, at <paramref name="now"/>; what to say, and since when it lasts.</summary>
    public (Say Say, TimeSpan For) Failed(DateTime now)
    {
        lock (_gate)
        {
            var last = _lastFailure;
            _lastFailure = now;
            if (_since is not { } since || now - last > Quiet)
            {
                _since = _lastSaid = now;
                return (Say.Begins, TimeSpan.Zero);
            }
            if (now - _lastSaid < Quiet) return (Say.Nothing, now - since);
            _lastSaid = now;
            return (Say.Continues, now - since);
        }
    }

    /// <summary>A claim was answered after failing; whether an outage was said to begin, which this ends.</summary>
    public bool Ended()
    {
        lock (_gate)
        {
            var said = _since is not null;
            _since = null;
            return said;
        }
    }
}
