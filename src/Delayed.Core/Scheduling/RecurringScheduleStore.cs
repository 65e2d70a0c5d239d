using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using Delayed.Core.Protocol;
using Delayed.Core.Queue;
using MessagePack;
using StackExchange.Redis;

namespace Delayed.Core.Scheduling;

/// <summary>
/// The recurring schedules of one queue, kept in its extension keys (<see cref="QueueKeys.Recurring"/>,
/// <see cref="QueueKeys.RecurringDue"/>, <see cref="QueueKeys.RecurringRuns"/>) so that every machine sees one set;
/// and the firing of their due ticks, which every worker and sweeper of this implementation does.
/// </summary>
public sealed class RecurringScheduleStore
{
    /// <summary>Most ticks one schedule fires in one pass when it is already due again (a schedule of every second that fell behind).</summary>
    private const int MaxTicksPerPass = 16;

    private readonly DelayedQueue _queue;
    private readonly RedisKey[] _registerKeys, _fireKeys;

    public RecurringScheduleStore(DelayedQueue queue)
    {
        _queue = queue;
        var keys = queue.Keys;
        _registerKeys = new RedisKey[] { keys.Recurring, keys.RecurringDue };
        _fireKeys = new RedisKey[] { keys.Tasks, keys.Tokens, keys.Recurring, keys.RecurringDue, keys.RecurringRuns, keys.Unique };
    }

    private IDatabase Db => _queue.Connection.Database;

    /// <summary>The Redis server's clock, which every tick is measured by.</summary>
    public async Task<DateTimeOffset> ServerTimeAsync()
    {
        var reply = (RedisResult[])(await Db.ExecuteAsync("TIME").ConfigureAwait(false))!;
        var ms = long.Parse((string)reply[0]!, CultureInfo.InvariantCulture) * 1000 + long.Parse((string)reply[1]!, CultureInfo.InvariantCulture) / 1000;
        return DateTimeOffset.FromUnixTimeMilliseconds(ms);
    }

    /// <summary>
    /// Creates or updates a schedule; its first tick is the first after the server's now. An identical definition is
    /// left as it is. Returns "created", "updated" or "unchanged".
    /// </summary>
    public async Task<string> RegisterAsync(RecurringSchedule schedule)
    {
        var next = schedule.Suspended ? null : schedule.NextAfter(await ServerTimeAsync().ConfigureAwait(false));
        return (string)(await Db.ScriptEvaluateAsync(LuaScripts.RegisterSchedule, _registerKeys, new RedisValue[]
        {
            schedule.Name, schedule.Serialize(), next is { } tick ? tick.ToUnixTimeMilliseconds() : RedisValue.EmptyString,
        }).ConfigureAwait(false))!;
    }

    /// <summary>Deletes a schedule with its state; false when there was none of that name.</summary>
    public async Task<bool> UnregisterAsync(string name)
    {
        return await _queue.TransactAsync(async transaction =>
        {
            var removed = transaction.HashDeleteAsync(_queue.Keys.Recurring, name);
            var due = transaction.SortedSetRemoveAsync(_queue.Keys.RecurringDue, name);
            var runs = transaction.HashDeleteAsync(_queue.Keys.RecurringRuns, name);
            await Task.WhenAll(due, runs).ConfigureAwait(false);
            return await removed.ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <summary>Every schedule of the queue, by name, read at one instant.</summary>
    public async Task<IReadOnlyList<ScheduleStatus>> GetAsync()
    {
        var (definitions, due, runs) = await _queue.TransactAsync(async transaction =>
        {
            var definitionsTask = transaction.HashGetAllAsync(_queue.Keys.Recurring);
            var dueTask = transaction.SortedSetRangeByRankWithScoresAsync(_queue.Keys.RecurringDue);
            var runsTask = transaction.HashGetAllAsync(_queue.Keys.RecurringRuns);
            return (await definitionsTask.ConfigureAwait(false), await dueTask.ConfigureAwait(false), await runsTask.ConfigureAwait(false));
        }).ConfigureAwait(false);
        var next = due.ToDictionary(e => (string)e.Element!, e => DateTimeOffset.FromUnixTimeMilliseconds((long)e.Score), StringComparer.Ordinal);
        var last = runs.ToDictionary(e => (string)e.Name!, e => (byte[])e.Value!, StringComparer.Ordinal);
        var result = new List<ScheduleStatus>();
        foreach (var entry in definitions.OrderBy(e => (string)e.Name!, StringComparer.Ordinal))
        {
            var name = (string)entry.Name!;
            RecurringSchedule? schedule = null;
            string? problem = null;
            try
            {
                schedule = RecurringSchedule.Read(name, (byte[])entry.Value!);
            }
            catch (FormatException e)
            {
                problem = e.Message;
            }
            var (firedAt, tick, outcome, fired) = last.TryGetValue(name, out var state) ? ReadRun(state) : (null, null, null, 0);
            result.Add(new ScheduleStatus(name, schedule, problem, next.TryGetValue(name, out var n) ? n : null, firedAt, tick, outcome, fired));
        }
        return result;
    }

    /// <summary>
    /// Fires the due ticks a promotion found. A tick late by more than <see cref="RecurringSchedule.MisfireThreshold"/>
    /// was missed: RunOnce enqueues once and Skip does not, and either goes on with the first tick after now, so a
    /// long outage never makes a burst. A tick on time is followed by the tick after it, so none is lost to a late
    /// promotion. Another process that fired the tick first makes this a no-op.
    /// </summary>
    /// <returns>The soonest next run the firing set, for the promoter's next pass; null when it set none.</returns>
    public async Task<DateTimeOffset?> FireAsync(Promotion promotion, Action<Exception> onError)
    {
        var now = DateTimeOffset.FromUnixTimeMilliseconds(promotion.ServerNowMs);
        DateTimeOffset? soonest = null;
        foreach (var due in promotion.DueTicks)
        {
            RecurringSchedule schedule;
            try
            {
                schedule = RecurringSchedule.Read(due.Name, due.Definition);
            }
            catch (FormatException e)
            {
                onError(new InvalidOperationException($"Queue '{_queue.Name}': {e.Message}", e));
                continue;
            }
            var tick = DateTimeOffset.FromUnixTimeMilliseconds(due.TickMs);
            for (var pass = 0; pass < MaxTicksPerPass; pass++)
            {
                var missed = now - tick > RecurringSchedule.MisfireThreshold;
                var enqueue = !missed || schedule.Misfire == MisfirePolicy.RunOnce;
                var outcome = !missed ? "Enqueued" : enqueue ? "CaughtUp" : "Skipped";
                var next = schedule.NextAfter(missed ? now : tick);
                var fired = (long)await Db.ScriptEvaluateAsync(LuaScripts.FireTick, _fireKeys, new RedisValue[]
                {
                    due.Name, tick.ToUnixTimeMilliseconds(), due.Definition, enqueue ? schedule.Task : RedisValue.EmptyString,
                    next is { } n ? n.ToUnixTimeMilliseconds() : RedisValue.EmptyString, outcome,
                    schedule.UniqueKey is null ? RedisValue.EmptyString : "k:" + schedule.UniqueKey, (long)Math.Ceiling(schedule.UniqueFor.TotalMilliseconds),
                }).ConfigureAwait(false) == 1;
                if (fired && next is { } set && (soonest is null || set < soonest)) soonest = set;
                if (!fired || next is not { } following || following > now) break;
                tick = following; // already due again: fire it in this pass
            }
        }
        return soonest;
    }

    private static (DateTimeOffset? FiredAt, DateTimeOffset? Tick, string? Outcome, long Fired) ReadRun(byte[] state)
    {
        try
        {
            var reader = new MessagePackReader(state);
            if (reader.ReadArrayHeader() < 4) return (null, null, null, 0);
            var firedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
            var tick = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
            var outcome = reader.ReadString();
            return (firedAt, tick, outcome, reader.ReadInt64());
        }
        catch (Exception e) when (e is MessagePackSerializationException or System.IO.EndOfStreamException or InvalidOperationException)
        {
            return (null, null, "Unreadable", 0);
        }
    }
}
