using System;
using System.Collections.Generic;
using Delayed.Core.Scheduling;
using Xunit;

namespace Delayed.Tests;

/// <summary>Who hears of a task this process scheduled (no Redis).</summary>
public class ScheduleNoticesTests
{
    [Fact]
    public void APromoterHearsOfTheTasksOfItsOwnQueuesOnly_AndOfNoneOnceItStopsListening()
    {
        var notices = new ScheduleNotices();
        var heard = new List<(string, TimeSpan)>();
        var jobs = notices.Listen("jobs", due => heard.Add(("jobs", due)));
        using var other = notices.Listen("{jobs}low", due => heard.Add(("{jobs}low", due)));
        notices.Scheduled("jobs", TimeSpan.FromSeconds(2));
        notices.Scheduled("Jobs", TimeSpan.FromSeconds(3)); // another queue: names are case-sensitive keys
        notices.Scheduled("{jobs}low", TimeSpan.FromSeconds(4));
        jobs.Dispose();
        notices.Scheduled("jobs", TimeSpan.FromSeconds(5));
        Assert.Equal(new[] { ("jobs", TimeSpan.FromSeconds(2)), ("{jobs}low", TimeSpan.FromSeconds(4)) }, heard);
    }
}
