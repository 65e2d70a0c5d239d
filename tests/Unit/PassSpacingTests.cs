using System;
using Delayed.Core.Scheduling;
using Xunit;

namespace Delayed.Tests;

/// <summary>How long a promoter waits between passes: until the soonest due time, with a floor on short waits in a row.</summary>
public class PassSpacingTests
{
    private static readonly TimeSpan Floor = SchedulePromoter.MinimumWait;

    [Fact]
    public void APassThatCameAMomentBeforeATaskWasDueWaitsOnlyForThatMoment_NotTheFloor()
    {
        var spacing = new PassSpacing();
        Assert.Equal(TimeSpan.FromMilliseconds(150), spacing.Next(TimeSpan.FromMilliseconds(150)));
        // The last wait ended 2 ms before the due time: the next pass comes when it is due.
        Assert.Equal(TimeSpan.FromMilliseconds(2), spacing.Next(TimeSpan.FromMilliseconds(2)));
        Assert.Equal(TimeSpan.FromMilliseconds(148), spacing.Next(TimeSpan.FromMilliseconds(148)));
        Assert.Equal(TimeSpan.FromMilliseconds(1), spacing.Next(TimeSpan.FromMilliseconds(1)));
    }

    [Fact]
    public void ASecondShortWaitInARowIsTheFloor_SoThatMuchFallingDueCostsAtMostTwoPassesPerFloor()
    {
        var spacing = new PassSpacing();
        Assert.Equal(TimeSpan.FromMilliseconds(1), spacing.Next(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(Floor, spacing.Next(TimeSpan.FromMilliseconds(1)));
        Assert.Equal(TimeSpan.FromMilliseconds(3), spacing.Next(TimeSpan.FromMilliseconds(3)));
        Assert.Equal(Floor, spacing.Next(TimeSpan.Zero));
    }

    [Fact]
    public void SomethingDueAlreadyIsPromotedAtOnce_WithoutANegativeWait()
    {
        Assert.Equal(TimeSpan.Zero, new PassSpacing().Next(TimeSpan.FromMilliseconds(-40)));
    }

    [Fact]
    public void NoTwoWaitsInARowAddUpToLessThanTheFloor_WhateverTheDueTimesSeen()
    {
        var random = new Random(20261203);
        for (var run = 0; run < 200; run++)
        {
            var spacing = new PassSpacing();
            var previous = Floor;
            for (var pass = 0; pass < 50; pass++)
            {
                var until = TimeSpan.FromMilliseconds(random.Next(-5, 25) + random.NextDouble());
                var wait = spacing.Next(until);
                Assert.True(wait >= TimeSpan.Zero, $"a negative wait {wait}");
                Assert.True(wait <= (until < TimeSpan.Zero ? TimeSpan.Zero : until) || wait == Floor, $"waited {wait} for a due time {until} away");
                Assert.True(previous + wait >= Floor, $"two waits in a row of {previous} and {wait}: more than two passes within {Floor}");
                previous = wait;
            }
        }
    }
}
