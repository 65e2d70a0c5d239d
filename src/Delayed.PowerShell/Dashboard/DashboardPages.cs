using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Text;
using Delayed.Core.Telemetry;
using Delayed.PowerShell.Conversion;
using Delayed.PowerShell.Views;

namespace Delayed.PowerShell.Dashboard;

/// <summary>
/// The dashboard's pages as HTML. Every piece of task data, error text, queue and host name goes through
/// <see cref="H"/>: a task named &lt;script&gt; is shown as text. The pages carry no script or style of their own
/// (the Content-Security-Policy allows only /app.js and /app.css), and a form that changes something carries the run's
/// secret and asks for confirmation in app.js.
/// </summary>
internal static class DashboardPages
{
    /// <summary>Rows a table shows at most; the page says how many more there are.</summary>
    internal const int MaxRows = 100;

    private static readonly string[] RunningColumns = { "Task", "Arguments", "Worker", "Host", "Started", "Running", "" };
    private static readonly string[] WorkerColumns = { "Worker", "Host", "Process", "Started", "Last refresh", "State" };
    private static readonly string[] ScheduledColumns = { "Due", "Task", "Arguments" };
    private static readonly string[] FailedColumns = { "Failed", "Task", "Arguments", "Reason", "Attempts", "Error", "Worker host" };
    private static readonly string[] FailedColumnsWithActions = { "Failed", "Task", "Arguments", "Reason", "Attempts", "Error", "Worker host", "" };
    private static readonly string[] ScheduleColumns = { "Name", "Cron", "Time zone", "Task", "Next run", "Last run", "Last outcome", "State" };

    public static string Overview(string server, IReadOnlyList<QueueSample> samples, IReadOnlyList<DashboardHistory.Point> history, TimeSpan lookInterval, bool refresh)
    {
        var page = Begin("Delayed", server, refresh);
        page.Append("<h1>Queues</h1>");
        if (samples.Count == 0)
        {
            page.Append("<p>No queue found on ").Append(H(server)).Append(". Queues appear here once they have tasks.</p>");
        }
        else
        {
            page.Append("<table id=\"queues\"><thead><tr><th>Queue</th><th>Waiting</th><th>Scheduled</th><th>Running</th><th>Stuck</th><th>Failed</th><th>Workers</th><th>Started/s</th><th>Oldest waiting</th><th>State</th></tr></thead><tbody>");
            foreach (var sample in samples)
            {
                var status = sample.Status;
                var stuck = status.InFlight - status.InFlightWorkersAlive;
                page.Append("<tr data-queue=\"").Append(H(sample.Queue)).Append("\"><td><a href=\"").Append(QueueUrl(sample.Queue)).Append("\">").Append(H(sample.Queue)).Append("</a></td>")
                    .Append(Cell("length", status.Length)).Append(Cell("scheduled", status.Scheduled)).Append(Cell("running", status.InFlight))
                    .Append(Cell("stuck", stuck, stuck > 0 ? "bad" : null)).Append(Cell("failed", status.Failed, status.Failed > 0 ? "warn" : null))
                    .Append(Cell("workers", sample.WorkersAlive)).Append("<td class=\"num\">").Append(Rate(sample.StartedPerSecond)).Append("</td>")
                    .Append("<td class=\"num\">").Append(H(WatchFrame.Duration(sample.OldestWaiting))).Append("</td>")
                    .Append("<td data-field=\"state\">").Append(status.Pause is { } pause ? $"<span class=\"warn\">paused</span> since {H(Time(pause.Since))}" : "running").Append("</td></tr>");
            }
            page.Append("</tbody></table>");
        }
        page.Append("<h2>Throughput and failures, all queues</h2>").Append(Chart(history, lookInterval));
        return End(page);
    }

    public static string Queue(QueuePageData data, bool refresh)
    {
        var sample = data.Sample;
        var status = sample.Status;
        var name = sample.Queue;
        var page = Begin(name + " - Delayed", data.Server, refresh);
        page.Append("<p><a href=\"/\">All queues</a></p><h1>").Append(H(name)).Append("</h1>");
        page.Append("<div id=\"state\">");
        if (status.Pause is { } pause)
            page.Append("<span class=\"warn\">Paused</span> since ").Append(H(Time(pause.Since))).Append(pause.Reason.Length > 0 ? ": " + H(pause.Reason) : "").Append(". Workers of this module take nothing from it; Python and Go workers do not honour a pause.");
        else
            page.Append("Running.");
        if (data.Secret is { } secret)
        {
            page.Append(' ').Append(status.Pause is null
                ? Action(name, "pause", secret, "Pause", $"Pause queue {name}? Workers of this module stop taking its tasks.")
                : Action(name, "resume", secret, "Resume", $"Resume queue {name}?"));
        }
        page.Append("</div>");
        page.Append("<table id=\"counts\"><tr><th>Waiting</th><th>Scheduled</th><th>Running</th><th>Stuck</th><th>Failed</th><th>Workers</th><th>Started/s</th><th>Oldest waiting</th></tr><tr>")
            .Append(Cell("length", status.Length)).Append(Cell("scheduled", status.Scheduled)).Append(Cell("running", status.InFlight))
            .Append(Cell("stuck", status.InFlight - status.InFlightWorkersAlive)).Append(Cell("failed", status.Failed)).Append(Cell("workers", sample.WorkersAlive))
            .Append("<td class=\"num\">").Append(Rate(sample.StartedPerSecond)).Append("</td><td class=\"num\">").Append(H(WatchFrame.Duration(sample.OldestWaiting))).Append("</td></tr></table>");
        page.Append("<h2>Throughput and failures</h2>").Append(Chart(data.History, data.LookInterval));

        page.Append("<h2>Running</h2>");
        Table(page, "running", sample.InFlight.OrderBy(t => t.WorkerAlive).ToList(), RunningColumns, (row, task) =>
        {
            var view = TaskView.Of(task.Raw);
            row.Append(Td(view.Name ?? "(undecodable)")).Append(Td(view.FormatArguments())).Append(Td(task.WorkerId)).Append(Td(task.Worker?.Description.Host ?? "(Python or Go worker)"))
                .Append(Td(task.StartedAt is { } at ? Time(at) : "")).Append(Td(task.StartedAt is { } since ? WatchFrame.Duration(DateTimeOffset.UtcNow - since) : ""))
                .Append(task.WorkerAlive ? "<td></td>" : "<td class=\"bad\">stuck: the worker is gone, the next sweep puts it back</td>");
        });

        page.Append("<h2>Workers</h2>");
        Table(page, "workers", data.Workers, WorkerColumns, (row, worker) =>
        {
            row.Append(Td(worker.WorkerId)).Append(Td(worker.Description.Host)).Append(Td(worker.Description.ProcessId.ToString(CultureInfo.InvariantCulture)))
                .Append(Td(Time(worker.Description.StartedAt))).Append(Td(worker.SinceLastRefresh is { } ago ? WatchFrame.Duration(ago) + " ago" : ""))
                .Append(Td(!worker.Alive ? "gone" : worker.StopRequested ? "stopping" : "alive"));
        });

        page.Append("<h2>Scheduled</h2>");
        Table(page, "scheduled", data.Scheduled, ScheduledColumns, (row, entry) =>
        {
            var view = TaskView.Of(entry.Raw);
            row.Append(Td(Time(entry.DueAt))).Append(Td(view.Name ?? "(undecodable)")).Append(Td(view.FormatArguments()));
        }, status.Scheduled);

        page.Append("<h2>Failed</h2>");
        if (data.Secret is { } key && status.Failed > 0)
            page.Append("<div>").Append(Action(name, "failed/retry-all", key, "Retry all", $"Put all {status.Failed} failed tasks of {name} back on the queue?")).Append("</div>");
        var columns = data.Secret is null ? FailedColumns : FailedColumnsWithActions;
        Table(page, "failed", sample.NewestFailed, columns, (row, failure) =>
        {
            var view = TaskView.Of(failure.Raw);
            row.Append(Td(Time(failure.FailedAt))).Append(Td(view.Name ?? "(undecodable)")).Append(Td(view.FormatArguments())).Append(Td(failure.Reason))
                .Append(Td(failure.Attempts.ToString(CultureInfo.InvariantCulture))).Append("<td class=\"error\"><pre>").Append(H(failure.Error)).Append("</pre></td>").Append(Td(failure.Host));
            if (data.Secret is { } secret)
            {
                row.Append("<td>").Append(Action(name, "failed/restore", secret, "Restore", $"Put {view.Name} back on queue {name}?", failure.Id))
                    .Append(Action(name, "failed/remove", secret, "Remove", $"Delete failed task {view.Name} for good?", failure.Id)).Append("</td>");
            }
        }, status.Failed);

        if (data.Schedules.Count > 0)
        {
            page.Append("<h2>Recurring schedules</h2>");
            Table(page, "schedules", data.Schedules, ScheduleColumns, (row, schedule) =>
            {
                var task = schedule.Schedule is { } s ? TaskView.Of(s.Task).Name ?? "" : "";
                row.Append(Td(schedule.Name)).Append(Td(schedule.Schedule?.Cron ?? "")).Append(Td(schedule.Schedule?.TimeZone ?? "")).Append(Td(task))
                    .Append(Td(schedule.NextTick is { } next ? Time(next) : "")).Append(Td(schedule.LastFiredAt is { } last ? Time(last) : ""))
                    .Append(Td(schedule.LastOutcome ?? schedule.Problem ?? "")).Append(Td(schedule.Schedule?.Suspended == true ? "suspended" : "active"));
            });
        }
        return End(page);
    }

    /// <summary>A page saying what went wrong, with a way back.</summary>
    public static string Message(string title, string text) =>
        End(Begin(title + " - Delayed", null, refresh: false).Append("<h1>").Append(H(title)).Append("</h1><p>").Append(H(text)).Append("</p><p><a href=\"/\">All queues</a></p>"));

    /// <summary>HTML-encodes text: &lt;, &gt;, &amp;, quotes.</summary>
    internal static string H(string? text) => WebUtility.HtmlEncode(text ?? "");

    internal static string QueueUrl(string queue) => "/queues/" + Uri.EscapeDataString(queue);

    private static StringBuilder Begin(string title, string? server, bool refresh)
    {
        var page = new StringBuilder("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(H(title))
            .Append("</title><link rel=\"stylesheet\" href=\"/app.css\"><script src=\"/app.js\" defer></script></head><body")
            .Append(refresh ? " data-refresh=\"10\"" : "").Append("><header><strong>Delayed</strong>");
        if (server is not null) page.Append(" on ").Append(H(server)).Append(", read at ").Append(H(Time(DateTimeOffset.Now)));
        return page.Append("</header><main>");
    }

    private static string End(StringBuilder page) => page.Append("</main></body></html>").ToString();

    private static void Table<T>(StringBuilder page, string id, IReadOnlyList<T> rows, string[] headers, Action<StringBuilder, T> row, long? total = null)
    {
        if (rows.Count == 0)
        {
            page.Append("<p id=\"").Append(id).Append("\" class=\"none\">None.</p>");
            return;
        }
        page.Append("<table id=\"").Append(id).Append("\"><thead><tr>");
        foreach (var header in headers) page.Append("<th>").Append(H(header)).Append("</th>");
        page.Append("</tr></thead><tbody>");
        foreach (var item in rows.Take(MaxRows))
        {
            page.Append("<tr>");
            row(page, item);
            page.Append("</tr>");
        }
        page.Append("</tbody></table>");
        var all = total ?? rows.Count;
        if (all > Math.Min(rows.Count, MaxRows))
            page.Append("<p class=\"more\">The newest ").Append(Math.Min(rows.Count, MaxRows)).Append(" of ").Append(all).Append(" shown; Get-DelayedTask lists them all.</p>");
    }

    private static string Td(string text) => "<td>" + H(text) + "</td>";

    private static string Cell(string field, long value, string? css = null) =>
        $"<td class=\"num{(css is null ? "" : " " + css)}\" data-field=\"{field}\">{value.ToString(CultureInfo.InvariantCulture)}</td>";

    /// <summary>A form that posts an action with the run's secret, confirmed in the page first (app.js).</summary>
    private static string Action(string queue, string action, string secret, string label, string confirm, string? id = null)
    {
        var form = new StringBuilder("<form method=\"post\" class=\"action\" action=\"").Append(QueueUrl(queue)).Append('/').Append(action)
            .Append("\" data-confirm=\"").Append(H(confirm)).Append("\"><input type=\"hidden\" name=\"secret\" value=\"").Append(H(secret)).Append("\">");
        if (id is not null) form.Append("<input type=\"hidden\" name=\"id\" value=\"").Append(H(id)).Append("\">");
        return form.Append("<button type=\"submit\">").Append(H(label)).Append("</button></form>").ToString();
    }

    private static string Rate(double? perSecond) => perSecond is { } rate ? rate.ToString("0.0", CultureInfo.InvariantCulture) : "-";

    private static string Time(DateTimeOffset at) => at.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>
    /// Tasks started and failed per minute over the last hour as an SVG drawn here (no script library): presentation
    /// attributes only, which the page's Content-Security-Policy allows.
    /// </summary>
    private static string Chart(IReadOnlyList<DashboardHistory.Point> points, TimeSpan lookInterval)
    {
        const int width = 720, height = 160, left = 40, bottom = 20;
        var now = DateTimeOffset.UtcNow;
        var perMinute = 60 / Math.Max(1, lookInterval.TotalSeconds);
        var max = Math.Max(1, points.Count == 0 ? 0 : points.Max(p => Math.Max(p.Started, p.Failed) * perMinute));
        double X(DateTimeOffset at) => left + (width - left) * (1 - Math.Min(1, (now - at).TotalSeconds / DashboardHistory.Span.TotalSeconds));
        double Y(double value) => (height - bottom) * (1 - value / max) + 2;
        string Line(Func<DashboardHistory.Point, long> value) =>
            string.Join(" ", points.Select(p => X(p.At).ToString("0.#", CultureInfo.InvariantCulture) + "," + Y(value(p) * perMinute).ToString("0.#", CultureInfo.InvariantCulture)));
        var svg = new StringBuilder($"<figure><svg class=\"chart\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"Tasks started and failed per minute, last hour\">");
        svg.Append($"<line x1=\"{left}\" y1=\"{height - bottom + 2}\" x2=\"{width}\" y2=\"{height - bottom + 2}\" stroke=\"#999\"/>");
        svg.Append($"<text x=\"0\" y=\"12\" font-size=\"11\" fill=\"#555\">{max.ToString("0.#", CultureInfo.InvariantCulture)}/min</text>");
        svg.Append($"<text x=\"{left}\" y=\"{height - 4}\" font-size=\"11\" fill=\"#555\">an hour ago</text><text x=\"{width - 24}\" y=\"{height - 4}\" font-size=\"11\" fill=\"#555\">now</text>");
        if (points.Count > 0)
        {
            svg.Append("<polyline class=\"started\" fill=\"none\" stroke=\"#2a6fdb\" stroke-width=\"2\" points=\"").Append(Line(p => p.Started)).Append("\"/>");
            svg.Append("<polyline class=\"failed\" fill=\"none\" stroke=\"#d33\" stroke-width=\"2\" points=\"").Append(Line(p => p.Failed)).Append("\"/>");
        }
        svg.Append("</svg><figcaption><span class=\"started\">Started</span> and <span class=\"failed\">failed</span> per minute, sampled every ")
            .Append(H(WatchFrame.Duration(lookInterval))).Append(" while this dashboard runs").Append(points.Count == 0 ? " (no look yet)" : "").Append(".</figcaption></figure>");
        return svg.ToString();
    }
}
