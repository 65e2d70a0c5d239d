using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading;
using Delayed.Core.Telemetry;

namespace Delayed.Tests;

/// <summary>Counts the direct-connection fallbacks (delayed.direct_connection.fallbacks) of one queue while it is alive.</summary>
internal sealed class FallbackCount : IDisposable
{
    private readonly MeterListener _listener = new();
    private int _claims;
    private int _enqueue;

    public FallbackCount(string queue)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == DelayedMetrics.MeterName && instrument.Name == "delayed.direct_connection.fallbacks")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? queueTag = null, use = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "queue") queueTag = tag.Value as string;
                if (tag.Key == "use") use = tag.Value as string;
            }
            if (queueTag != queue) return;
            if (use == "claims") Interlocked.Add(ref _claims, (int)value);
            else if (use == "enqueue") Interlocked.Add(ref _enqueue, (int)value);
            else throw new InvalidOperationException($"a fallback counted with use '{use}'");
        });
        _listener.Start();
    }

    /// <summary>Fallbacks of a worker slot's claims connection.</summary>
    public int Claims => Volatile.Read(ref _claims);

    /// <summary>Fallbacks of the enqueue connection.</summary>
    public int Enqueue => Volatile.Read(ref _enqueue);

    public void Dispose() => _listener.Dispose();
}
