using System;
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
    /// <summary>Handler run times of operations work: from a ping to an hour-long patch run.</summary>
    private static readonly double[] DurationBuckets = { 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600 };

    private readonly MeterListener _listener = new();
    private readonly IMetricFactory _factory;

    public MeterBridge(CollectorRegistry registry)
    {
        _factory = Metrics.WithCustomRegistry(registry);
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
            var histogram = _factory.CreateHistogram(name, help, new HistogramConfiguration { LabelNames = labels, Buckets = DurationBuckets });
            return new Sink(labels, (values, value) => histogram.WithLabels(values).Observe(value));
        }
        var counter = _factory.CreateCounter(name, help, new CounterConfiguration { LabelNames = labels });
        return new Sink(labels, (values, value) => counter.WithLabels(values).Inc(value));
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>One instrument's target: its label names in order and how a measurement is recorded.</summary>
    private sealed class Sink
    {
        private readonly string[] _labels;
        private readonly Action<string[], double> _record;

        public Sink(string[] labels, Action<string[], double> record)
        {
            _labels = labels;
            _record = record;
        }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var values = new string[_labels.Length];
            for (var i = 0; i < _labels.Length; i++)
            {
                values[i] = "";
                foreach (var tag in tags)
                {
                    if (tag.Key != _labels[i]) continue;
                    values[i] = tag.Value?.ToString() ?? "";
                    break;
                }
            }
            _record(values, value);
        }
    }
}
