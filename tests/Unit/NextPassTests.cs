using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Scheduling;
using Xunit;

namespace Delayed.Tests;

/// <summary>When a promoter makes its next pass, given what this process scheduled meanwhile (no Redis).</summary>
public class NextPassTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(5);

    /// <summary>The wait's outcome, or a failure well before the five minutes it would take without the notice.</summary>
    private static async Task<bool> EndsSoon(Task<bool> wait)
    {
        Assert.True(await Task.WhenAny(wait, Task.Delay(TimeSpan.FromSeconds(10))) == wait, "the wait did not end when the task noticed fell due");
        return await wait;
    }

    [Fact]
    public async Task ATaskNoticedDuringTheWaitEndsItWhenDue()
    {
        var next = new NextPass();
        next.Begins();
        var clock = Stopwatch.StartNew();
        var wait = next.WaitAsync(Long, CancellationToken.None);
        next.Notice(TimeSpan.FromMilliseconds(200));
        Assert.True(await EndsSoon(wait));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(180), $"the wait ended after {clock.Elapsed.TotalMilliseconds} ms, before the task was due");
    }

    [Fact]
    public async Task ATaskNoticedDuringAPassEndsTheWaitAfterIt_ThePassMayNotHaveSeenIt()
    {
        var next = new NextPass();
        next.Begins();
        next.Notice(TimeSpan.FromMilliseconds(50)); // scheduled after the pass read the schedule, before the pass ended
        Assert.True(await EndsSoon(next.WaitAsync(Long, CancellationToken.None)));
    }

    [Fact]
    public async Task ATaskNoticedBeforeAPassBeganIsLeftToThatPass_WhichSawIt()
    {
        var next = new NextPass();
        next.Notice(TimeSpan.Zero);
        next.Begins();
        var clock = Stopwatch.StartNew();
        Assert.True(await next.WaitAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(280), $"the wait ended after {clock.Elapsed.TotalMilliseconds} ms for a task the pass had seen");
    }

    [Fact]
    public async Task ATaskNoticedDueLaterThanThePlannedPassChangesNothing()
    {
        var next = new NextPass();
        next.Begins();
        var clock = Stopwatch.StartNew();
        var wait = next.WaitAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None);
        next.Notice(Long);
        Assert.True(await EndsSoon(wait));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(280), $"the wait ended after {clock.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task NoticesOfTasksDueAtOnceBringNoPassWithinTheMinimumWaitOfTheLast()
    {
        var next = new NextPass();
        next.Begins();
        var clock = Stopwatch.StartNew();
        next.Notice(TimeSpan.Zero);
        Assert.True(await EndsSoon(next.WaitAsync(Long, CancellationToken.None)));
        Assert.True(clock.Elapsed >= SchedulePromoter.MinimumWait - TimeSpan.FromMilliseconds(2), $"a pass {clock.Elapsed.TotalMilliseconds} ms after the last");
    }

    [Fact]
    public async Task AStopEndsTheWaitAtOnce_SayingSo()
    {
        var next = new NextPass();
        next.Begins();
        using var stop = new CancellationTokenSource();
        var wait = next.WaitAsync(Long, stop.Token);
        stop.Cancel();
        Assert.False(await EndsSoon(wait));
    }
}
