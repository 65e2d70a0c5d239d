using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Queue;
using Prometheus;

namespace Delayed.Core.Telemetry;

/// <summary>
/// The gauges of queues in one Prometheus registry, read from Redis when the registry is collected, at most once per
/// <see cref="MinInterval"/> however often it is scraped: a scrape in between gets the last values.
/// </summary>
internal sealed class QueueGauges : IDisposable
{
    private readonly IReadOnlyList<QueueSampler> _samplers;
    private readonly bool _withOldestWaiting;
    private readonly Gauge _length, _scheduled, _inFlight, _inFlightWorkerGone, _failed, _workers, _paused, _up;
    private readonly Gauge? _oldestWaiting;
    private readonly SemaphoreSlim _reading = new(1, 1);
    private DateTimeOffset _lastRead = DateTimeOffset.MinValue;

    /// <summary>The least time between two reads from Redis.</summary>
    internal static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    /// <param name="queues">The queues to read.</param>
    /// <param name="registry">Where the gauges go.</param>
    /// <param name="withOldestWaiting">
    /// Whether to publish the oldest task's waiting time, which takes repeated looks (<see cref="WaitingAge"/>): not for
    /// a single export.
    /// </param>
    public QueueGauges(IEnumerable<DelayedQueue> queues, CollectorRegistry registry, bool withOldestWaiting)
    {
        _samplers = queues.Select(q => new QueueSampler(q)).ToList();
        _withOldestWaiting = withOldestWaiting;
        var factory = Metrics.WithCustomRegistry(registry);
        Gauge Create(string name, string help) => factory.CreateGauge(name, help, "queue");
        _length = Create("delayed_queue_length", "Tasks waiting in the queue.");
        _scheduled = Create("delayed_queue_scheduled", "Tasks due later: Add-DelayedTask -Delay, and retries waiting out their back-off.");
        _inFlight = Create("delayed_queue_in_flight", "Tasks held by workers now.");
        _inFlightWorkerGone = Create("delayed_queue_in_flight_worker_gone", "In-flight tasks whose worker is gone; the next sweep puts them back.");
        _failed = Create("delayed_queue_failed", "Tasks in the failed store.");
        _workers = Create("delayed_queue_workers", "Workers of this module alive on the queue (Python and Go workers do not register).");
        _paused = Create("delayed_queue_paused", "1 while the queue is paused (Suspend-DelayedQueue), else 0.");
        _up = Create("delayed_queue_up", "1 when the last read of the queue from Redis succeeded, else 0 (the other gauges then keep their last values).");
        if (withOldestWaiting)
            _oldestWaiting = Create("delayed_queue_oldest_waiting_seconds",
                "How long the next task has waited at least, as seen by this process looking at the queue once a second (the wire format carries no enqueue time).");
    }

    public void Dispose() => _reading.Dispose();

    /// <summary>Reads the queues unless that was done less than <see cref="MinInterval"/> ago.</summary>
    public async Task UpdateAsync(CancellationToken cancel)
    {
        await _reading.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            if (DateTimeOffset.UtcNow - _lastRead < MinInterval) return;
            await Task.WhenAll(_samplers.Select(ReadAsync)).ConfigureAwait(false);
            _lastRead = DateTimeOffset.UtcNow;
        }
        finally
        {
            _reading.Release();
        }
    }

    private async Task ReadAsync(QueueSampler sampler)
    {
        var queue = sampler.Queue.Name;
        QueueSample sample;
        try
        {
            sample = await sampler.SampleAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException or Redis.DelayedConnectionException)
        {
            _up.WithLabels(queue).Set(0);
            return;
        }
        var status = sample.Status;
        _length.WithLabels(queue).Set(status.Length);
        _scheduled.WithLabels(queue).Set(status.Scheduled);
        _inFlight.WithLabels(queue).Set(status.InFlight);
        _inFlightWorkerGone.WithLabels(queue).Set(status.InFlight - status.InFlightWorkersAlive);
        _failed.WithLabels(queue).Set(status.Failed);
        _workers.WithLabels(queue).Set(sample.WorkersAlive);
        _paused.WithLabels(queue).Set(status.Pause is null ? 0 : 1);
        if (_withOldestWaiting && sample.OldestWaiting is { } oldest) _oldestWaiting!.WithLabels(queue).Set(oldest.TotalSeconds);
        _up.WithLabels(queue).Set(1);
    }
}
