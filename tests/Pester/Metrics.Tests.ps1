# The engine's "Delayed" meter is the runtime's System.Diagnostics.Metrics: a listener in the session (as
# dotnet-counters or an exporter would be) hears the module's measurements.
BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
}
AfterAll { Stop-TestRedis $redis }

Describe 'The Delayed meter' {
    It 'is heard by a MeterListener of the session: tasks enqueued and processed, with queue, name and outcome' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.1'
        # A span-taking callback cannot be a scriptblock: a few lines of C# listen, as an exporter would.
        Add-Type -TypeDefinition @'
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
public sealed class DelayedMeterProbe : System.IDisposable
{
    private readonly MeterListener _listener = new();
    public ConcurrentQueue<string> Seen { get; } = new();
    public DelayedMeterProbe()
    {
        _listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == "Delayed") l.EnableMeasurementEvents(instrument); };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var map = new Dictionary<string, object>();
            foreach (var tag in tags) map[tag.Key] = tag.Value;
            Seen.Enqueue($"{instrument.Name} {value} {(map.TryGetValue("name", out var n) ? n : "")} {(map.TryGetValue("outcome", out var o) ? o : "")}".Trim());
        });
        _listener.Start();
    }
    public void Dispose() => _listener.Dispose();
}
'@
        $probe = [DelayedMeterProbe]::new()
        $seen = $probe.Seen
        try {
            Add-DelayedTask $queue m:ok
            Start-DelayedWorker $queue -Handler @{ 'm:ok' = {} } -StopWhenEmpty | Out-Null
        } finally { $probe.Dispose() }
        $seen | Should -Contain 'delayed.tasks.enqueued 1'
        $seen | Should -Contain 'delayed.tasks.started 1 m:ok'
        $seen | Should -Contain 'delayed.tasks.processed 1 m:ok succeeded'
    }
}
