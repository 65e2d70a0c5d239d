using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using Prometheus;

namespace Delayed.Core.Telemetry;

/// <summary>
/// Copies the measurements of the "Delayed" meter into Prometheus metrics of one registry, named by the Prometheus
/// conventions: dots become underscores, a unit of seconds adds <c>_seconds</c>, a counter ends in <c>_total</c>
/// (<c>delayed.tasks.processed</c> is <c>delayed_tasks_processed_total</c>). prometheus-net's own adapter exists only
/// for .NET 6 and later; the module is built for netstandard2.0 so that Windows PowerShell can load it.
/// </summary>
internal sealed class MeterBridge : IDisposable
{
    /// <summary>Run and wait times of operations work: from a millisecond's wait or ping to an hour-long patch run.</summary>
    private static readonly double[] TimeBuckets = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600 };

    private readonly MeterListener _listener = new();
    private readonly MetricFactory _factory;

    public MeterBridge(CollectorRegistry registry)
    {
        _factory = (MetricFactory)Metrics.WithCustomRegistry(registry);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == DelayedMetrics.MeterName) listener.EnableMeasurementEvents(instrument, SinkFor(instrument));
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((Sink)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((Sink)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>The Prometheus name of an instrument of the meter.</summary>
    internal static string PrometheusName(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_');
        if (instrument.Unit == "s") name += "_seconds";
        if (instrument is Counter<long> or Counter<double>) name += "_total";
        return name;
    }

    private Sink SinkFor(Instrument instrument)
    {
        var labels = DelayedMetrics.TagsOf(instrument.Name).ToArray();
        var name = PrometheusName(instrument);
        var help = instrument.Description ?? instrument.Name;
        if (instrument is Histogram<double> or Histogram<long>)
        {
            var histogram = _factory.CreateHistogram(name, help, new HistogramConfiguration { LabelNames = labels, Buckets = TimeBuckets });
            return new Sink(labels, values => histogram.WithLabels(values).Observe);
        }
        var counter = _factory.CreateCounter(name, help, new CounterConfiguration { LabelNames = labels });
        return new Sink(labels, values => counter.WithLabels(values).Inc);
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>
    /// One instrument's target: its label names in order, and the recorder of each series it has seen, found again by
    /// the tags' values without allocating (at most four labels: the meter's instruments have no more).
    /// </summary>
    private sealed class Sink
    {
        private readonly string[] _labels;
        private readonly Func<string[], Action<double>> _seriesOf;
        private readonly ConcurrentDictionary<(string, string, string, string), Action<double>> _series = new();

        public Sink(string[] labels, Func<string[], Action<double>> seriesOf)
        {
            if (labels.Length > 4) throw new ArgumentException("An instrument of the Delayed meter has at most four tags.", nameof(labels));
            _labels = labels;
            _seriesOf = seriesOf;
        }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var key = (Value(tags, 0), Value(tags, 1), Value(tags, 2), Value(tags, 3));
            if (!_series.TryGetValue(key, out var record))
            {
                var values = new[] { key.Item1, key.Item2, key.Item3, key.Item4 }.Take(_labels.Length).ToArray();
                record = _series.GetOrAdd(key, _seriesOf(values));
            }
            record(value);
        }

        /// <summary>The value of the label at <paramref name="index"/> among the tags; "" when it has none.</summary>
        private string Value(ReadOnlySpan<KeyValuePair<string, object?>> tags, int index)
        {
            if (index >= _labels.Length) return "";
            foreach (var tag in tags)
                if (tag.Key == _labels[index]) return tag.Value?.ToString() ?? "";
            return "";
        }
    }
}
