using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Delayed.Core.Telemetry;
using Delayed.PowerShell.Conversion;

namespace Delayed.PowerShell.Views;

/// <summary>
/// What Watch-DelayedQueue shows of its queues' latest looks: a screen laid out for 80 columns (queues, running tasks
/// with the stuck ones marked, newest failures), or one line per refresh where it cannot draw. Plain text; the caller
/// adds the terminal's control sequences.
/// </summary>
internal static class WatchFrame
{
    /// <summary>The width the screen is laid out for; a narrower window cuts the lines.</summary>
    internal const int Width = 80;

    /// <summary>The lines of one screen, each at most <paramref name="width"/> characters, at most <paramref name="height"/> of them.</summary>
    public static IReadOnlyList<Line> Screen(string server, IReadOnlyList<QueueSample> samples, TimeSpan interval, int width, int height)
    {
        var lines = new List<Line>
        {
            new($"Delayed on {server} at {DateTimeOffset.Now:HH:mm:ss}, every {Duration(interval)}. Ctrl+C to stop.", Tone.Title),
            new(""),
            new($"{"QUEUE",-15} {"WAITING",7} {"SCHED",6} {"FLIGHT",6} {"STUCK",5} {"FAILED",6} {"WORKERS",7} {"RATE/S",6} {"OLDEST",6}  {"STATE",-6}", Tone.Header),
        };
        foreach (var sample in samples)
        {
            var status = sample.Status;
            var stuck = status.InFlight - status.InFlightWorkersAlive;
            var state = status.Pause is null ? "" : "paused";
            lines.Add(new Line(
                $"{Cut(sample.Queue, 15),-15} {Count(status.Length),7} {Count(status.Scheduled),6} {Count(status.InFlight),6} {Count(stuck),5} {Count(status.Failed),6} " +
                $"{Count(sample.WorkersAlive),7} {Rate(sample.StartedPerSecond),6} {Duration(sample.OldestWaiting),6}  {state,-6}",
                stuck > 0 || status.Pause is not null ? Tone.Warning : Tone.Plain));
        }

        var running = samples.SelectMany(s => s.InFlight.Select(t => (s.Queue, Task: t))).OrderBy(r => r.Task.StartedAt ?? DateTimeOffset.MaxValue).ToList();
        var failures = samples.SelectMany(s => s.NewestFailed.Select(f => (s.Queue, Failure: f))).OrderByDescending(f => f.Failure.FailedAt).Take(5).ToList();
        // What is left of the window goes to the running tasks first (the stuck ones lead), then to the failures.
        var room = Math.Max(0, height - lines.Count - 3 - (failures.Count > 0 ? failures.Count + 3 : 0));
        lines.Add(new(""));
        lines.Add(new($"RUNNING ({running.Count}; stuck: the worker is gone, the next sweep puts the task back)", Tone.Title));
        if (running.Count > 0)
        {
            lines.Add(new($"{"QUEUE",-12} {"TASK",-22} {"WORKER",-10} {"HOST",-14} {"RUNNING",8}  {"",-5}", Tone.Header));
            var shown = running.OrderBy(r => r.Task.WorkerAlive).Take(Math.Max(1, room)).ToList();
            foreach (var (queue, task) in shown)
            {
                var name = TaskView.Of(task.Raw).Name ?? "(undecodable)";
                var ran = task.StartedAt is { } started ? DateTimeOffset.UtcNow - started : (TimeSpan?)null;
                lines.Add(new Line(
                    $"{Cut(queue, 12),-12} {Cut(name, 22),-22} {Cut(task.WorkerId, 10),-10} {Cut(task.Worker?.Description.Host ?? "?", 14),-14} {Duration(ran),8}  {(task.WorkerAlive ? "" : "stuck"),-5}",
                    task.WorkerAlive ? Tone.Plain : Tone.Error));
            }
            if (shown.Count < running.Count) lines.Add(new($"... and {running.Count - shown.Count} more", Tone.Dim));
        }
        if (failures.Count > 0)
        {
            lines.Add(new(""));
            lines.Add(new("NEWEST FAILURES", Tone.Title));
            lines.Add(new($"{"QUEUE",-12} {"TASK",-18} {"FAILED",-8} {"REASON",-10} ERROR", Tone.Header));
            foreach (var (queue, failure) in failures)
            {
                var name = TaskView.Of(failure.Raw).Name ?? "(undecodable)";
                lines.Add(new Line($"{Cut(queue, 12),-12} {Cut(name, 18),-18} {failure.FailedAt.ToLocalTime():HH:mm:ss} {Cut(failure.Reason, 10),-10} {OneLine(failure.Error)}", Tone.Error));
            }
        }
        var cut = Math.Max(1, width);
        return lines.Take(Math.Max(1, height)).Select(l => new Line(Cut(l.Text, cut), l.Tone)).ToList();
    }

    /// <summary>One refresh as one line, for output that is redirected or piped.</summary>
    public static string Summary(IReadOnlyList<QueueSample> samples)
    {
        var text = new StringBuilder(DateTimeOffset.Now.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture));
        foreach (var sample in samples)
        {
            var status = sample.Status;
            text.Append(sample == samples[0] ? " " : "; ")
                .Append(OneLine(sample.Queue)).Append(": ")
                .Append(status.Length).Append(" waiting, ")
                .Append(status.Scheduled).Append(" scheduled, ")
                .Append(status.InFlight).Append(" running (").Append(status.InFlight - status.InFlightWorkersAlive).Append(" stuck), ")
                .Append(status.Failed).Append(" failed, ")
                .Append(sample.WorkersAlive).Append(sample.WorkersAlive == 1 ? " worker, " : " workers, ")
                .Append(Rate(sample.StartedPerSecond)).Append("/s, oldest ").Append(Duration(sample.OldestWaiting));
            if (status.Pause is not null) text.Append(", paused");
        }
        return text.ToString();
    }

    /// <summary>The text on one line of at most <paramref name="width"/> characters, its control characters as spaces.</summary>
    private static string Cut(string text, int width)
    {
        text = OneLine(text);
        return text.Length <= width ? text : width <= 1 ? text.Substring(0, width) : text.Substring(0, width - 1) + "…";
    }

    private static string OneLine(string text)
    {
        var line = text.Replace("\r", " ").Replace("\n", " ").Trim();
        // Task data and errors are shown as text: a control character could move the cursor or change colours.
        return new string(line.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
    }

    private static string Count(long value) =>
        value < 1_000_000 ? value.ToString(CultureInfo.InvariantCulture)
        : value < 1_000_000_000 ? (value / 1_000_000.0).ToString("0.0", CultureInfo.InvariantCulture) + "M"
        : (value / 1_000_000_000.0).ToString("0.0", CultureInfo.InvariantCulture) + "G";

    private static string Rate(double? perSecond) =>
        perSecond is not { } rate ? "-" : rate < 100 ? rate.ToString("0.0", CultureInfo.InvariantCulture) : Count((long)Math.Round(rate));

    /// <summary>A duration in at most two units: 12s, 3m04s, 2h05m, 3d04h.</summary>
    internal static string Duration(TimeSpan? span)
    {
        if (span is not { } value) return "-";
        if (value < TimeSpan.Zero) value = TimeSpan.Zero;
        if (value.TotalSeconds < 1 && value > TimeSpan.Zero) return ((int)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
        if (value.TotalMinutes < 1) return ((int)value.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
        if (value.TotalHours < 1) return $"{(int)value.TotalMinutes}m{value.Seconds:00}s";
        if (value.TotalDays < 1) return $"{(int)value.TotalHours}h{value.Minutes:00}m";
        return $"{(int)value.TotalDays}d{value.Hours:00}h";
    }

    /// <summary>How a line is shown where colours can be.</summary>
    internal enum Tone
    {
        Plain,
        Title,
        Header,
        Dim,
        Warning,
        Error,
    }

    internal readonly struct Line
    {
        public Line(string text, Tone tone = Tone.Plain)
        {
            Text = text;
            Tone = tone;
        }

        public string Text { get; }

        public Tone Tone { get; }
    }
}
