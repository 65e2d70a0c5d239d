using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core;
using Delayed.Core.Scheduling;
using Delayed.Core.Telemetry;
using Delayed.PowerShell.Reporting;

namespace Delayed.PowerShell.Dashboard;

/// <summary>
/// The web dashboard: an HttpListener (no web server to install) serving the overview, a page per queue, and, with
/// actions allowed, the forms that restore, remove or retry failed tasks and pause or resume a queue. Safe by default:
/// read-only; nothing changes on GET; an action must carry this run's secret, which only the pages served by this run
/// hold, and, when the browser says where a request comes from, come from these pages (no cross-site requests); on
/// loopback, a request must name a loopback host (no DNS rebinding). Every page is read from Redis when asked for, and
/// a look every <see cref="LookInterval"/> feeds the charts.
/// </summary>
internal sealed class DashboardServer : IDisposable
{
    private const int MaxFormBytes = 16 * 1024;
    private static readonly char[] PathSeparator = { '/' };
    private static readonly TimeSpan Rediscovery = TimeSpan.FromMinutes(1);

    private readonly HttpListener _listener = new();
    private readonly BackgroundRefresh<IReadOnlyList<Queue>>? _discovered;
    /// <summary>The queues named at the start; none when every queue of the server is shown (<see cref="_discovered"/>).</summary>
    private readonly IReadOnlyList<Queue> _givenQueues;
    private readonly string _server;
    private readonly string? _secret;
    private readonly bool _loopback;
    private readonly int _port;
    private Action<string> _log = _ => { };
    private readonly DashboardHistory _history = new();
    /// <summary>The look loop's samplers: only it looks through them, so that each look counts what started since the last.</summary>
    private readonly Dictionary<string, QueueSampler> _samplers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, QueueSample> _latest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _failedAfter = new(StringComparer.Ordinal);
    private long _looks;

    /// <param name="queues">The queues shown, or null for every queue of <paramref name="server"/> (found again each minute).</param>
    /// <param name="discover">Finds every queue of the server (a SCAN of all its keys: done in the background once a list is known, so that no page waits for it).</param>
    /// <param name="server">The server's name as shown (never with its password).</param>
    /// <param name="address">The address to listen on: 127.0.0.1 by default, '*' or '+' for all.</param>
    /// <param name="port">The TCP port.</param>
    /// <param name="allowActions">Whether the pages may change anything.</param>
    /// <param name="lookInterval">Time between the looks that feed the charts.</param>
    public DashboardServer(IReadOnlyList<Queue>? queues, Func<Task<IReadOnlyList<Queue>>> discover, string server, string address, int port, bool allowActions, TimeSpan lookInterval)
    {
        _givenQueues = queues ?? Array.Empty<Queue>();
        _discovered = queues is null ? new BackgroundRefresh<IReadOnlyList<Queue>>(discover, Rediscovery) : null;
        _server = server;
        _port = port;
        LookInterval = lookInterval;
        _loopback = address is "127.0.0.1" or "localhost" or "::1" or "[::1]";
        var host = address.Contains(":") && !address.StartsWith("[", StringComparison.Ordinal) ? $"[{address}]" : address;
        Url = new Uri($"http://{(host is "*" or "+" or "0.0.0.0" ? "localhost" : host)}:{port}/");
        _listener.Prefixes.Add($"http://{(host == "0.0.0.0" ? "*" : host)}:{port}/");
        if (host == "127.0.0.1") _listener.Prefixes.Add($"http://localhost:{port}/"); // the listener answers only to the host names of its prefixes
        if (allowActions) _secret = NewSecret();
    }

    public Uri Url { get; }

    public TimeSpan LookInterval { get; }

    /// <summary>Starts listening.</summary>
    /// <exception cref="InvalidOperationException">The address and port could not be listened on.</exception>
    public void Start()
    {
        try
        {
            _listener.Start();
        }
        catch (HttpListenerException e)
        {
            throw new InvalidOperationException($"Cannot serve the dashboard at {Url}: {e.Message}. Is another process listening on port {_port}? Choose another -Port.", e);
        }
    }

    /// <summary>Serves requests and takes looks until <paramref name="stop"/>; each action taken is told to <paramref name="log"/>, with who asked.</summary>
    public async Task RunAsync(Action<string> log, CancellationToken stop)
    {
        _log = log;
        var looking = LookLoopAsync(stop);
        using (stop.Register(() => _listener.Stop()))
        {
            while (!stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException && stop.IsCancellationRequested)
                {
                    break;
                }
                _ = Task.Run(() => HandleAsync(context), CancellationToken.None); // a request begun is answered
            }
        }
        await looking.ConfigureAwait(false);
    }

    public void Dispose() => ((IDisposable)_listener).Dispose();

    private async Task LookLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await LookAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (IsRedisFailure(e))
            {
                // Redis away: the chart has a gap, and the pages say what failed when they are asked for.
            }
            await Core.QuietDelay.WaitAsync(LookInterval, stop).ConfigureAwait(false);
        }
    }

    /// <summary>One look at every queue: the started and failed counts since the last one go to the history.</summary>
    private async Task LookAsync()
    {
        var queues = await QueuesAsync().ConfigureAwait(false);
        var look = Interlocked.Increment(ref _looks);
        await Task.WhenAll(queues.Select(async queue =>
        {
            var sample = await SamplerOf(queue).SampleAsync(detailed: true, newestFailed: 0).ConfigureAwait(false);
            lock (_latest) _latest[queue.Name] = sample;
            long after;
            lock (_failedAfter) after = _failedAfter.TryGetValue(queue.Name, out var known) ? known : -1;
            var (failed, newest) = await queue.Engine.CountFailedAfterAsync(Math.Max(0, after)).ConfigureAwait(false);
            lock (_failedAfter) _failedAfter[queue.Name] = newest;
            // The first look only finds where the store stands: what failed before the dashboard started is not this hour's.
            _history.Add(queue.Name, new DashboardHistory.Point(look, sample.TakenAt, sample.StartedSinceLastLook ?? 0, after < 0 ? 0 : failed));
        })).ConfigureAwait(false);
    }

    private Task<IReadOnlyList<Queue>> QueuesAsync() => _discovered?.GetAsync() ?? Task.FromResult(_givenQueues);

    private QueueSampler SamplerOf(Queue queue)
    {
        lock (_samplers)
        {
            if (!_samplers.TryGetValue(queue.Name, out var sampler)) _samplers[queue.Name] = sampler = new QueueSampler(queue.Engine);
            return sampler;
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        try
        {
            if (_loopback && !IsLoopbackHost(request.Url?.Host))
            {
                await SendAsync(response, 421, DashboardPages.Message("Misdirected request", "This dashboard answers only to requests for a loopback address, such as 127.0.0.1 or localhost.")).ConfigureAwait(false);
                return;
            }
            var segments = (request.RawUrl ?? "/").Split('?')[0].Split(PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
            var refresh = !string.Equals(request.QueryString["refresh"], "0", StringComparison.Ordinal);
            if (segments.Length == 1 && segments[0] is "app.js" or "app.css")
            {
                if (!await OnlyGetAsync(request, response).ConfigureAwait(false)) return;
                await SendAsync(response, 200, segments[0] == "app.js" ? DashboardAssets.Script : DashboardAssets.Style,
                    segments[0] == "app.js" ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8").ConfigureAwait(false);
                return;
            }
            if (segments.Length == 0)
            {
                if (!await OnlyGetAsync(request, response).ConfigureAwait(false)) return;
                var queues = await QueuesAsync().ConfigureAwait(false);
                var samples = await Task.WhenAll(queues.Select(q => ReadNowAsync(q, newestFailed: 0))).ConfigureAwait(false);
                await SendAsync(response, 200, DashboardPages.Overview(_server, samples, _history.Of(queues.Select(q => q.Name)), LookInterval, refresh)).ConfigureAwait(false);
                return;
            }
            if (segments[0] == "queues" && segments.Length >= 2 && (await QueuesAsync().ConfigureAwait(false)).FirstOrDefault(q => q.Name == segments[1]) is { } queue)
            {
                if (segments.Length == 2)
                {
                    if (!await OnlyGetAsync(request, response).ConfigureAwait(false)) return;
                    await SendAsync(response, 200, DashboardPages.Queue(await ReadQueueAsync(queue).ConfigureAwait(false), refresh)).ConfigureAwait(false);
                    return;
                }
                await ActAsync(context, queue, string.Join("/", segments.Skip(2))).ConfigureAwait(false);
                return;
            }
            await SendAsync(response, 404, DashboardPages.Message("Not found", "There is no such page or queue here.")).ConfigureAwait(false);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            await SendAsync(response, 503, DashboardPages.Message("Redis did not answer", TransientFailure.Brief(e, null) + " The page works again once Redis does.")).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
        {
            // The browser went away, or the dashboard is stopping.
        }
        finally
        {
            try { response.Close(); } catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { }
        }
    }

    /// <summary>
    /// A queue as it is now, for a page: its counts, running tasks and failures read afresh; its start rate and oldest
    /// task's wait from the look loop, whose regular looks tell them (null before its first look).
    /// </summary>
    private async Task<QueueSample> ReadNowAsync(Queue queue, int newestFailed)
    {
        var now = await new QueueSampler(queue.Engine).SampleAsync(detailed: true, newestFailed).ConfigureAwait(false);
        QueueSample? latest;
        lock (_latest) _latest.TryGetValue(queue.Name, out latest);
        return new QueueSample(now.Queue, now.TakenAt, now.Status, now.WorkersAlive, latest?.OldestWaiting, now.InFlight, now.NewestFailed, latest?.StartedPerSecond);
    }

    private async Task<QueuePageData> ReadQueueAsync(Queue queue)
    {
        var sample = ReadNowAsync(queue, DashboardPages.MaxRows);
        var workers = queue.Engine.GetWorkersAsync();
        var scheduled = queue.Engine.GetScheduledAsync(0, DashboardPages.MaxRows);
        var schedules = new RecurringScheduleStore(queue.Engine).GetAsync();
        return new QueuePageData(_server, await sample.ConfigureAwait(false), await workers.ConfigureAwait(false), await scheduled.ConfigureAwait(false),
            await schedules.ConfigureAwait(false), _history.Of(new[] { queue.Name }), LookInterval, _secret);
    }

    /// <summary>A POST of a page's form: checked (actions allowed, the run's secret, from these pages), done, and back to the queue's page.</summary>
    private async Task ActAsync(HttpListenerContext context, Queue queue, string action)
    {
        var request = context.Request;
        var response = context.Response;
        if (request.HttpMethod != "POST")
        {
            response.AddHeader("Allow", "POST");
            await SendAsync(response, 405, DashboardPages.Message("Method not allowed", "Actions are forms posted from the dashboard's pages; nothing changes on GET.")).ConfigureAwait(false);
            return;
        }
        if (_secret is null)
        {
            await SendAsync(response, 403, DashboardPages.Message("Read-only", "This dashboard was started without -AllowActions: it shows, and changes nothing.")).ConfigureAwait(false);
            return;
        }
        var origin = request.Headers["Origin"];
        var form = await ReadFormAsync(request).ConfigureAwait(false);
        if (form is null || !SameSecret(form.TryGetValue("secret", out var given) ? given : "", _secret)
            || (origin is not null && !string.Equals(origin.TrimEnd('/'), $"{request.Url!.Scheme}://{request.Url.Authority}", StringComparison.OrdinalIgnoreCase)))
        {
            await SendAsync(response, 403, DashboardPages.Message("Refused", "The request did not come from this dashboard's pages (no or a wrong secret, or another origin). Reload the page and try again.")).ConfigureAwait(false);
            return;
        }
        form.TryGetValue("id", out var id);
        var engine = queue.Engine;
        string done;
        switch (action)
        {
            case "pause":
                await engine.PauseAsync("paused from the dashboard").ConfigureAwait(false);
                done = "paused";
                break;
            case "resume":
                await engine.ResumeAsync().ConfigureAwait(false);
                done = "resumed";
                break;
            case "failed/restore" when !string.IsNullOrEmpty(id):
                var entry = await engine.GetFailedAsync(id!).ConfigureAwait(false);
                var restored = entry is not null && (await engine.RestoreFailedAsync(new[] { (entry.Id, entry.Raw) }).ConfigureAwait(false))[0] is not null;
                done = restored ? $"restored failed task {id}" : $"found no failed task {id} to restore (restored or removed meanwhile)";
                break;
            case "failed/remove" when !string.IsNullOrEmpty(id):
                done = (await engine.RemoveFailedAsync(new[] { id! }).ConfigureAwait(false))[0] ? $"removed failed task {id}" : $"found no failed task {id} to remove";
                break;
            case "failed/retry-all":
                var all = await engine.GetFailedAsync().ConfigureAwait(false);
                var back = await engine.RestoreFailedAsync(all.Select(f => (f.Id, f.Raw)).ToArray()).ConfigureAwait(false);
                done = $"put {back.Count(place => place is not null)} failed task(s) back";
                break;
            default:
                await SendAsync(response, 404, DashboardPages.Message("Not found", "There is no such action.")).ConfigureAwait(false);
                return;
        }
        _log($"Dashboard: queue '{queue.Name}' {done}, asked by {request.RemoteEndPoint}.");
        response.StatusCode = 303;
        response.RedirectLocation = DashboardPages.QueueUrl(queue.Name);
    }

    private static async Task<Dictionary<string, string>?> ReadFormAsync(HttpListenerRequest request)
    {
        if (request.ContentType is null || !request.ContentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)) return null;
        if (request.ContentLength64 > MaxFormBytes) return null;
        var buffer = new byte[MaxFormBytes];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await request.InputStream.ReadAsync(buffer, read, buffer.Length - read).ConfigureAwait(false);
            if (n == 0) break;
            read += n;
        }
        var form = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in Encoding.UTF8.GetString(buffer, 0, read).Split('&'))
        {
            var equals = pair.IndexOf('=');
            if (equals <= 0) continue;
            form[WebUtility.UrlDecode(pair.Substring(0, equals))] = WebUtility.UrlDecode(pair.Substring(equals + 1));
        }
        return form;
    }

    private static async Task<bool> OnlyGetAsync(HttpListenerRequest request, HttpListenerResponse response)
    {
        if (request.HttpMethod == "GET") return true;
        response.AddHeader("Allow", "GET");
        await SendAsync(response, 405, DashboardPages.Message("Method not allowed", "Pages are read with GET.")).ConfigureAwait(false);
        return false;
    }

    private static async Task SendAsync(HttpListenerResponse response, int status, string body, string type = "text/html; charset=utf-8")
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        response.StatusCode = status;
        response.ContentType = type;
        // The pages run only the dashboard's own script and style, in no frame, and tell no other site where they were.
        response.AddHeader("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
        response.AddHeader("X-Content-Type-Options", "nosniff");
        response.AddHeader("X-Frame-Options", "DENY");
        response.AddHeader("Referrer-Policy", "same-origin"); // not no-referrer: a browser then sends its form posts with Origin: null
        response.AddHeader("Cache-Control", "no-store");
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes, 0, bytes.Length).ConfigureAwait(false);
    }

    /// <summary>Redis unreachable, away or refusing: by kind, as the engine classifies it (its client's types stay in its own load context).</summary>
    private static bool IsRedisFailure(Exception e) =>
        Core.Redis.Failures.Classify(e) is Core.Redis.FailureKind.Unreachable or Core.Redis.FailureKind.Unavailable or Core.Redis.FailureKind.ServerError;

    private static bool IsLoopbackHost(string? host) =>
        host is not null && (host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address)));

    private static string NewSecret()
    {
        var bytes = new byte[32];
        using (var random = RandomNumberGenerator.Create()) random.GetBytes(bytes);
        return string.Concat(bytes.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>Compares in time independent of where they differ.</summary>
    private static bool SameSecret(string given, string secret)
    {
        var a = Encoding.UTF8.GetBytes(given);
        var b = Encoding.UTF8.GetBytes(secret);
        var difference = a.Length ^ b.Length;
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++) difference |= a[i] ^ b[i];
        return difference == 0;
    }
}
