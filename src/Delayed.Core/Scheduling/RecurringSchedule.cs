using System;
using System.Buffers;
using System.Collections.Generic;
using System.Text;
using Cronos;
using Delayed.Core.Codec;
using MessagePack;

namespace Delayed.Core.Scheduling;

/// <summary>
/// A task to enqueue at the times a cron expression gives in a time zone: its definition as kept in the queue's
/// <see cref="Protocol.QueueKeys.Recurring"/> hash. Cron expressions and time-zone rules (DST gaps and overlaps) are
/// Cronos's: 5 fields, 6 with seconds first, or a macro such as @daily.
/// </summary>
public sealed class RecurringSchedule
{
    private const int FormatVersion = 1;

    /// <summary>A tick fired later than this counts as missed: no worker or sweeper ran at its time.</summary>
    public static readonly TimeSpan MisfireThreshold = TimeSpan.FromSeconds(5);

    private readonly CronExpression _expression;
    private readonly TimeZoneInfo _zone;

    private RecurringSchedule(string name, string cron, CronExpression expression, TimeZoneInfo zone, byte[] task, MisfirePolicy misfire, bool suspended,
        TimeSpan uniqueFor, string? uniqueKey)
    {
        UniqueFor = uniqueFor;
        UniqueKey = uniqueKey;
        Name = name;
        Cron = cron;
        _expression = expression;
        _zone = zone;
        Task = task;
        Misfire = misfire;
        Suspended = suspended;
    }

    public string Name { get; }

    public string Cron { get; }

    /// <summary>The time zone's id as given (IANA, e.g. Europe/Berlin, or a Windows id).</summary>
    public string TimeZone => _zone.Id;

    /// <summary>The exact bytes of the task each tick enqueues: an ordinary task, which Go and Python workers run too.</summary>
    public byte[] Task { get; }

    public MisfirePolicy Misfire { get; }

    public bool Suspended { get; }

    /// <summary>A run enqueues nothing while a task of the same key was enqueued less than this ago; zero for no such check.</summary>
    public TimeSpan UniqueFor { get; }

    /// <summary>The uniqueness key with <see cref="UniqueFor"/>; null for the task's bytes.</summary>
    public string? UniqueKey { get; }

    /// <summary>Makes a schedule, refusing a bad name, cron expression or time zone with an error that says what to give.</summary>
    public static RecurringSchedule Create(string name, string cron, string timeZone, byte[] task, MisfirePolicy misfire = MisfirePolicy.RunOnce, bool suspended = false,
        TimeSpan uniqueFor = default, string? uniqueKey = null)
    {
        if (uniqueFor < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(uniqueFor), uniqueFor, "A uniqueness window cannot be negative.");
        if (uniqueKey is not null && uniqueFor == TimeSpan.Zero) throw new ArgumentException("A uniqueness key needs a uniqueness window.", nameof(uniqueKey));
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("A schedule needs a name that is not empty or blank, e.g. 'nightly-patch'.", nameof(name));
        if (task is null || task.Length == 0) throw new ArgumentException("A schedule needs a task to enqueue.", nameof(task));
        if (!Enum.IsDefined(typeof(MisfirePolicy), misfire))
            throw new ArgumentOutOfRangeException(nameof(misfire), misfire, "The misfire policy is RunOnce or Skip.");
        return new RecurringSchedule(name, cron, ParseCron(cron), FindZone(timeZone), task, misfire, suspended, uniqueFor, uniqueKey);
    }

    /// <summary>The same schedule, suspended or not.</summary>
    public RecurringSchedule WithSuspended(bool suspended) => new(Name, Cron, _expression, _zone, Task, Misfire, suspended, UniqueFor, UniqueKey);

    /// <summary>The first tick strictly after <paramref name="instant"/>, or null when the expression has no more.</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset instant) => _expression.GetNextOccurrence(instant, _zone);

    /// <summary>The next <paramref name="count"/> ticks after <paramref name="instant"/>, for -WhatIf and listings.</summary>
    public IReadOnlyList<DateTimeOffset> NextTicks(DateTimeOffset instant, int count)
    {
        var ticks = new List<DateTimeOffset>(count);
        for (var next = NextAfter(instant); next is { } tick && ticks.Count < count; next = NextAfter(tick)) ticks.Add(tick);
        return ticks;
    }

    public byte[] Serialize()
    {
        var buffer = new ByteBufferWriter();
        var writer = new MessagePackWriter(buffer);
        var unique = UniqueFor > TimeSpan.Zero;
        writer.WriteArrayHeader(unique ? 8 : 6);
        writer.Write(FormatVersion);
        writer.Write(Cron);
        writer.Write(TimeZone);
        writer.Write(Task);
        writer.Write((int)Misfire);
        writer.Write(Suspended);
        if (unique)
        {
            writer.Write((long)Math.Ceiling(UniqueFor.TotalMilliseconds));
            if (UniqueKey is null) writer.WriteNil();
            else writer.Write(UniqueKey);
        }
        writer.Flush();
        return buffer.ToArray();
    }

    /// <summary>Reads a definition; throws <see cref="FormatException"/> (naming the schedule) when it does not read or its zone is unknown here.</summary>
    public static RecurringSchedule Read(string name, byte[] definition)
    {
        try
        {
            var reader = new MessagePackReader(definition);
            var length = reader.ReadArrayHeader();
            if (length < 6 || reader.ReadInt32() != FormatVersion) throw new FormatException("an unknown definition format");
            var cron = MessagePackText.Read(ref reader);
            var zone = MessagePackText.Read(ref reader);
            var task = reader.ReadBytes() is { } bytes ? bytes.ToArray() : Array.Empty<byte>();
            var misfire = (MisfirePolicy)reader.ReadInt32();
            var suspended = reader.ReadBoolean();
            var uniqueFor = length >= 8 ? TimeSpan.FromMilliseconds(reader.ReadInt64()) : TimeSpan.Zero;
            var uniqueKey = length >= 8 && !reader.TryReadNil() ? MessagePackText.Read(ref reader) : null;
            return Create(name, cron, zone, task, misfire, suspended, uniqueFor, uniqueKey);
        }
        catch (Exception e) when (e is MessagePackSerializationException or System.IO.EndOfStreamException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new FormatException($"The definition of schedule '{name}' does not read here ({e.Message}). Register it again.", e);
        }
    }

    private static readonly char[] FieldSeparators = { ' ', '\t' };

    private static CronExpression ParseCron(string cron)
    {
        var text = cron?.Trim() ?? "";
        var fields = text.Split(FieldSeparators, StringSplitOptions.RemoveEmptyEntries).Length;
        try
        {
            return CronExpression.Parse(text, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            throw new ArgumentException(
                $"The cron expression '{cron}' is not valid: {e.Message} Give 5 fields (minute hour day-of-month month day-of-week, e.g. '0 2 * * 1-5'), " +
                "6 with seconds first (e.g. '*/10 * * * * *'), or a macro such as @hourly or @daily.", nameof(cron), e);
        }
    }

    private static TimeZoneInfo FindZone(string timeZone)
    {
        if (string.IsNullOrWhiteSpace(timeZone))
            throw new ArgumentException("A schedule needs a time zone, e.g. 'Europe/Berlin' or 'UTC'.", nameof(timeZone));
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(timeZone.Trim());
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new ArgumentException(
                $"The time zone '{timeZone}' is not known on this machine. Give an IANA id such as 'Europe/Berlin' or 'America/New_York' " +
                "(or a Windows id such as 'W. Europe Standard Time'); [System.TimeZoneInfo]::GetSystemTimeZones() lists them.", nameof(timeZone), e);
        }
    }
}
