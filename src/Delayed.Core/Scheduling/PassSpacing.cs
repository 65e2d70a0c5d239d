using System;

namespace Delayed.Core.Scheduling;

/// <summary>
/// How long a promoter waits before its next pass, given how long until the soonest due time its pass saw: that long,
/// so that what falls due is promoted when due; but of two short waits in a row (under <see cref="SchedulePromoter.MinimumWait"/>),
/// the second is that minimum, which bounds the passes when much falls due to two in that time. Only a second one: a
/// pass that came a moment before a task was due (the last wait ended early, or the task was added meanwhile) would
/// otherwise promote it that much late.
/// </summary>
internal sealed class PassSpacing
{
    private bool _afterShortWait;

    /// <summary>The wait before the next pass; <paramref name="untilSoonestDue"/> is zero or less when something is due already.</summary>
    public TimeSpan Next(TimeSpan untilSoonestDue)
    {
        if (untilSoonestDue >= SchedulePromoter.MinimumWait)
        {
            _afterShortWait = false;
            return untilSoonestDue;
        }
        var wait = _afterShortWait ? SchedulePromoter.MinimumWait : untilSoonestDue < TimeSpan.Zero ? TimeSpan.Zero : untilSoonestDue;
        _afterShortWait = !_afterShortWait;
        return wait;
    }
}
