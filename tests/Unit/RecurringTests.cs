using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using Delayed.Core.Scheduling;
using Delayed.Core.Sweeper;
using Delayed.Core.Worker;
using Xunit;

namespace Delayed.Tests;

/// <summary>Recurring schedules: kept in Redis, fired once per tick by whichever worker or sweeper gets there first.</summary>
[Collection("redis")]
public class RecurringTests
{
    private static readonly byte[] Tick = TaskEncoder.EncodePython("m:tick", new object[] { "web" }, null, 0);
    private readonly RedisFixture _redis;

    public RecurringTests(RedisFixture redis) => _redis = redis;

    private static RecurringSchedule EverySecond(string name = "every-second", MisfirePolicy misfire = MisfirePolicy.RunOnce) =>
        RecurringSchedule.Create(name, "* * * * * *", "UTC", Tick, misfire);

    [Fact]
    public async Task ATickFiresOnceAnOrdinaryTaskWithItsToken_AndTheNextTickIsTheOneAfter()
    {
        var queue = _redis.NewQueue();
        var store = new RecurringScheduleStore(queue);
        Assert.Equal("created", await store.RegisterAsync(EverySecond()));
        var status = Assert.Single(await store.GetAsync());
        Assert.NotNull(status.NextTick);

        var promoter = new SchedulePromoter(new[] { queue }, (_, e) => throw e);
        await Eventually.True(async () => { await promoter.PromoteOnceAsync(); return await queue.GetLengthAsync() > 0; }, "the first tick to fire");
        Assert.Equal(Tick, (byte[])(await _redis.Db.ListGetByIndexAsync(queue.Keys.Tasks, 0))!); // the exact bytes: Go and Python workers run it
        Assert.Equal(await queue.GetLengthAsync(), await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
        status = Assert.Single(await store.GetAsync());
        Assert.Equal("Enqueued", status.LastOutcome);
        Assert.Equal(status.LastTick!.Value.AddSeconds(1), status.NextTick);
    }

    [Fact]
    public async Task ApplyingTheSameDefinitionAgainChangesNothing_AChangeMovesTheNextTick_AndSuspendTakesItOut()
    {
        var queue = _redis.NewQueue();
        var store = new RecurringScheduleStore(queue);
        var daily = RecurringSchedule.Create("nightly", "0 2 * * 1-5", "Europe/Berlin", Tick);
        await store.RegisterAsync(daily);
        // A tick moved by hand stands for one about to fire: re-applying the same set must not move it.
        await _redis.Db.SortedSetAddAsync(queue.Keys.RecurringDue, "nightly", 12345);
        Assert.Equal("unchanged", await store.RegisterAsync(RecurringSchedule.Create("nightly", "0 2 * * 1-5", "Europe/Berlin", Tick)));
        Assert.Equal(12345, await _redis.Db.SortedSetScoreAsync(queue.Keys.RecurringDue, "nightly"));

        Assert.Equal("updated", await store.RegisterAsync(RecurringSchedule.Create("nightly", "0 3 * * 1-5", "Europe/Berlin", Tick)));
        var next = Assert.Single(await store.GetAsync()).NextTick!.Value;
        Assert.Equal(3, TimeZoneInfo.ConvertTime(next, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")).Hour);

        await store.RegisterAsync(daily.WithSuspended(true));
        var suspended = Assert.Single(await store.GetAsync());
        Assert.True(suspended.Schedule!.Suspended);
        Assert.Null(suspended.NextTick);
        Assert.Equal(0, await _redis.Db.SortedSetLengthAsync(queue.Keys.RecurringDue));

        Assert.True(await store.UnregisterAsync("nightly"));
        Assert.Empty(await store.GetAsync());
        Assert.False(await store.UnregisterAsync("nightly"));
    }

    [Theory]
    [InlineData(MisfirePolicy.RunOnce, 1, "CaughtUp")]
    [InlineData(MisfirePolicy.Skip, 0, "Skipped")]
    public async Task AfterATenSecondOutageRunOnceCatchesUpOnceAndSkipLetsTheTicksGo_NeitherBursts(MisfirePolicy policy, int expected, string outcome)
    {
        var queue = _redis.NewQueue();
        var store = new RecurringScheduleStore(queue);
        await store.RegisterAsync(EverySecond(misfire: policy));
        // Ten seconds in which no worker or sweeper ran: the due tick is ten seconds old.
        var now = await store.ServerTimeAsync();
        var missed = now.AddSeconds(-10).ToUnixTimeMilliseconds() / 1000 * 1000;
        await _redis.Db.SortedSetAddAsync(queue.Keys.RecurringDue, "every-second", missed);

        await new SchedulePromoter(new[] { queue }, (_, e) => throw e).PromoteOnceAsync();

        Assert.Equal(expected, await queue.GetLengthAsync());
        var status = Assert.Single(await store.GetAsync());
        Assert.Equal(outcome, status.LastOutcome);
        Assert.Equal(missed, status.LastTick!.Value.ToUnixTimeMilliseconds());
        Assert.True(status.NextTick > now, $"the next tick {status.NextTick} is not after the server's now {now}: the missed ticks would come as a burst");
    }

    [Fact]
    public async Task AfterARealTenSecondOutageRunOnceCatchesUpOnceAndSkipDoesNot()
    {
        var queue = _redis.NewQueue();
        var store = new RecurringScheduleStore(queue);
        await store.RegisterAsync(RecurringSchedule.Create("once", "* * * * * *", "UTC", Tick, MisfirePolicy.RunOnce));
        await store.RegisterAsync(RecurringSchedule.Create("skip", "* * * * * *", "UTC", TaskEncoder.EncodePython("m:skip", null, null, 0), MisfirePolicy.Skip));
        var promoter = new SchedulePromoter(new[] { queue }, (_, e) => throw e);
        await Eventually.True(async () =>
        {
            await promoter.PromoteOnceAsync();
            return (await store.GetAsync()).All(s => s.Fired > 0);
        }, "both schedules to fire once");
        var before = (await store.GetAsync()).ToDictionary(s => s.Name, s => s.Fired);
        await Task.Delay(TimeSpan.FromSeconds(10.5)); // the outage: no worker or sweeper runs
        var outageEnd = await store.ServerTimeAsync();
        await promoter.PromoteOnceAsync();
        var after = (await store.GetAsync()).ToDictionary(s => s.Name);
        Assert.Equal(("CaughtUp", before["once"] + 1), (after["once"].LastOutcome, after["once"].Fired));
        Assert.Equal(("Skipped", before["skip"]), (after["skip"].LastOutcome, after["skip"].Fired));
        // The next tick is one to come when the promotion looked, not a missed one (which the next pass would fire as a
        // burst). Not "after the firing": a second boundary can fall between the promotion's look and its firing script.
        Assert.All(after.Values, s => Assert.True(s.NextTick > outageEnd, $"next tick {s.NextTick:O} is not after the outage ended at {outageEnd:O}"));
    }

    [Fact]
    public async Task ATickIsFiredOnceWhenPromotersRace_AndNotAgainByAStaleReader()
    {
        var queue = _redis.NewQueue();
        var store = new RecurringScheduleStore(queue);
        await store.RegisterAsync(EverySecond());
        var now = await store.ServerTimeAsync();
        var tick = now.ToUnixTimeMilliseconds() / 1000 * 1000;
        await _redis.Db.SortedSetAddAsync(queue.Keys.RecurringDue, "every-second", tick);
        // Eight promoters that all read the same due tick, then all fire it.
        var promotion = await queue.PromoteAndFindTicksAsync();
        Assert.Single(promotion.DueTicks);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => new RecurringScheduleStore(queue).FireAsync(promotion, e => throw e))));
        Assert.Equal(1, await queue.GetLengthAsync());
        Assert.Equal(1, Assert.Single(await store.GetAsync()).Fired);
    }

    [Fact]
    public async Task AUniqueScheduleEnqueuesNothingWhileATaskOfItsKeyIsWithinTheWindow()
    {
        var queue = _redis.NewQueue();
        var store = new RecurringScheduleStore(queue);
        await store.RegisterAsync(RecurringSchedule.Create("unique", "* * * * * *", "UTC", Tick, uniqueFor: TimeSpan.FromHours(1), uniqueKey: "report"));
        var promoter = new SchedulePromoter(new[] { queue }, (_, e) => throw e);
        for (var run = 0; run < 2; run++)
        {
            var tick = (await store.ServerTimeAsync()).ToUnixTimeMilliseconds() / 1000 * 1000 - run * 1000;
            await _redis.Db.SortedSetAddAsync(queue.Keys.RecurringDue, "unique", tick);
            await promoter.PromoteOnceAsync();
        }
        Assert.Equal(1, await queue.GetLengthAsync());
        var status = Assert.Single(await store.GetAsync());
        Assert.Equal(("Duplicate", 1L), (status.LastOutcome, status.Fired));
        Assert.Equal((TimeSpan.FromHours(1), "report"), (status.Schedule!.UniqueFor, status.Schedule.UniqueKey));
        // Add-DelayedTask -UniqueKey report shares the window.
        Assert.False((await queue.EnqueueUniqueAsync(new[] { new UniqueTask(Tick, TimeSpan.FromMinutes(1), key: "report") }))[0]);
    }

    [Fact]
    public void DaylightSavingGapsAndOverlapsFollowCronos_OneRunEachDay()
    {
        // Europe/Berlin: 2026-03-29 02:00 CET jumps to 03:00 CEST; 2026-10-25 03:00 CEST falls back to 02:00 CET.
        var schedule = RecurringSchedule.Create("dst", "30 2 * * *", "Europe/Berlin", Tick);
        var spring = schedule.NextTicks(new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.Zero), 2);
        // 02:30 does not exist that night: Cronos runs it as the clocks change, at 03:00 CEST (01:00 UTC).
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), spring[0].ToUniversalTime());
        Assert.Equal(new DateTimeOffset(2026, 3, 30, 0, 30, 0, TimeSpan.Zero), spring[1].ToUniversalTime());
        var autumn = schedule.NextTicks(new DateTimeOffset(2026, 10, 24, 12, 0, 0, TimeSpan.Zero), 2);
        // 02:30 comes twice that night: it runs once, at the first (02:30 CEST, 00:30 UTC).
        Assert.Equal(new DateTimeOffset(2026, 10, 25, 0, 30, 0, TimeSpan.Zero), autumn[0].ToUniversalTime());
        Assert.Equal(new DateTimeOffset(2026, 10, 26, 1, 30, 0, TimeSpan.Zero), autumn[1].ToUniversalTime());
    }

    [Fact]
    public void BadExpressionsAndZonesAreRefusedWithWhatToGive()
    {
        var cron = Assert.Throws<ArgumentException>(() => RecurringSchedule.Create("x", "0 25 * * *", "UTC", Tick));
        Assert.Contains("'0 25 * * *' is not valid", cron.Message);
        Assert.Contains("@daily", cron.Message);
        var zone = Assert.Throws<ArgumentException>(() => RecurringSchedule.Create("x", "@daily", "Mars/Olympus", Tick));
        Assert.Contains("'Mars/Olympus' is not known", zone.Message);
        Assert.Equal(4, RecurringSchedule.Create("x", "@hourly", "UTC", Tick).NextTicks(DateTimeOffset.UtcNow, 4).Count);
    }
}

/// <summary>
/// A schedule of every second for a minute, with three sweepers and two workers firing it on a server of its own. In
/// the sequential collection: run beside other tests, its five busy clients starve their timing on two cores.
/// </summary>
[Collection("redis")]
public sealed class RecurringRaceTests : IAsyncLifetime
{
    private Delayed.Testing.LocalRedisServer? _server;

    public Task InitializeAsync()
    {
        _server = new Delayed.Testing.LocalRedisServer();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _server?.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task EveryTickOfAMinuteFiresExactlyOnce_WithThreeSweepersAndTwoWorkersRacing()
    {
        var connections = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => DelayedConnection.ConnectAsync(_server!.Configuration)));
        try
        {
            var queues = connections.Select(c => new DelayedQueue(c, "race")).ToArray();
            var store = new RecurringScheduleStore(queues[0]);
            await store.RegisterAsync(RecurringSchedule.Create("every-second", "* * * * * *", "UTC", TaskEncoder.EncodePython("m:tick", null, null, 0)));
            long ran = 0;
            using var stop = new CancellationTokenSource();
            var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            var sweepers = queues.Take(3).Select(q => new DelayedSweeper(new[] { q }, TimeSpan.FromMinutes(10)) { OnError = (_, _, e) => errors.Enqueue(e) }.RunAsync(stop.Token)).ToArray();
            var workers = queues.Skip(3).Select(q => new DelayedWorker(q, new DelegateRegistry().Add("m:tick", _ => Interlocked.Increment(ref ran)), new WorkerOptions
            {
                DequeueTimeout = TimeSpan.FromMilliseconds(200),
                OnEvent = e => { if (e.Kind == WorkerEventKind.WorkerError) errors.Enqueue(e.Error!); },
            }).RunAsync(stop.Token)).ToArray();

            await Eventually.True(async () => (await store.GetAsync()).Single().Fired > 0, "the first tick to fire");
            var first = (await store.GetAsync()).Single();
            await Task.Delay(TimeSpan.FromSeconds(60)); // the test is about a minute of ticks
            stop.Cancel();
            await Task.WhenAll(sweepers.Concat(workers.Cast<Task>()));
            var last = (await store.GetAsync()).Single();

            Assert.Empty(errors);
            var ticks = (long)(last.LastTick!.Value - first.LastTick!.Value).TotalSeconds;
            Assert.True(ticks >= 55, $"only {ticks} ticks passed");
            Assert.Equal(ticks, last.Fired - first.Fired); // each tick once: none doubled, none lost
            Assert.Equal(last.Fired, Interlocked.Read(ref ran) + await queues[0].GetLengthAsync()); // and each fired tick is one task
        }
        finally
        {
            foreach (var connection in connections) connection.Dispose();
        }
    }
}
