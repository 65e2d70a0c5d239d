using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Queue;
using Prometheus;

namespace Delayed.Core.Telemetry;

/// <summary>
/// Serves this process's measurements (<see cref="DelayedMetrics"/>) and the gauges of its queues (read from Redis at
/// scrape time, at most once a second) at <c>http://address:port/metrics</c> in the Prometheus text format, for as long
/// as it is not disposed.
/// </summary>
public sealed class MetricsEndpoint : IDisposable
{
    private readonly MeterBridge _bridge;
    private readonly MetricServer _server;
    private readonly QueueGauges _gauges;

    private MetricsEndpoint(MeterBridge bridge, MetricServer server, QueueGauges gauges, Uri url)
    {
        _gauges = gauges;
        _bridge = bridge;
        _server = server;
        Url = url;
    }

    /// <summary>Where Prometheus scrapes.</summary>
    public Uri Url { get; }

    /// <summary>Starts listening.</summary>
    /// <param name="queues">The queues whose gauges are served.</param>
    /// <param name="address">A host name or address to listen on; '*' or '+' for all of them.</param>
    /// <param name="port">The TCP port.</param>
    /// <exception cref="InvalidOperationException">The address and port could not be listened on.</exception>
    public static MetricsEndpoint Start(IEnumerable<DelayedQueue> queues, string address, int port)
    {
        if (port is < 1 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "The metrics port must be between 1 and 65535.");
        if (string.IsNullOrWhiteSpace(address)) throw new ArgumentException("The metrics address is empty: give a host name or address, e.g. 127.0.0.1, or '*' for all.", nameof(address));
        var registry = Metrics.NewCustomRegistry();
        var gauges = new QueueGauges(queues, registry, withOldestWaiting: true);
        registry.AddBeforeCollectCallback(gauges.UpdateAsync);
        var bridge = new MeterBridge(registry);
        var host = address.Contains(":") && !address.StartsWith("[", StringComparison.Ordinal) ? $"[{address}]" : address;
        var server = new MetricServer(host, port, "metrics/", registry);
        try
        {
            server.Start();
        }
        catch (Exception e) when (e is HttpListenerException or InvalidOperationException or ArgumentException)
        {
            bridge.Dispose();
            gauges.Dispose();
            throw new InvalidOperationException(
                $"Cannot serve metrics at http://{host}:{port}/metrics: {e.Message}. Is another process listening on port {port}? Choose another port, or an address of this machine.", e);
        }
        return new MetricsEndpoint(bridge, server, gauges, new Uri($"http://{(host is "*" or "+" ? "localhost" : host)}:{port}/metrics"));
    }

    /// <summary>
    /// Writes the gauges of the queues once, in the Prometheus text format, as node_exporter's and windows_exporter's
    /// textfile collectors read them. Without earlier looks the oldest task's waiting time is unknown, so it is left out.
    /// </summary>
    public static async Task WriteGaugesAsync(IEnumerable<DelayedQueue> queues, Stream destination, CancellationToken cancel = default)
    {
        var registry = Metrics.NewCustomRegistry();
        using var gauges = new QueueGauges(queues, registry, withOldestWaiting: false);
        await gauges.UpdateAsync(cancel).ConfigureAwait(false);
        await registry.CollectAndExportAsTextAsync(destination, cancel).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _server.Dispose();
        _bridge.Dispose();
        _gauges.Dispose();
    }
}
