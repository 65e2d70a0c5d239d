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

Describe 'Prometheus metrics' {
    BeforeAll {
        function Get-FreePort {
            $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            $listener.Start()
            try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
        }
        # The samples of a scrape by series ('name{labels}' => value); a line out of the text format fails.
        function Get-Samples([int] $Port) {
            $text = (Invoke-WebRequest "http://127.0.0.1:$Port/metrics" -UseBasicParsing).Content
            $samples = @{}
            foreach ($line in $text -split "`n") {
                if ($line -eq '' -or $line -match '^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* ') { continue }
                $line | Should -Match '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+0-9.eENaInf]+$'
                $name, $value = $line -split ' (?=[^ ]+$)'
                $samples[$name] = [double]$value
            }
            $samples
        }
    }

    It 'a worker job with -MetricsPort serves counters that move as it runs tasks, and gauges of its queue, until it stops' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.1'
        $port = Get-FreePort
        $job = Start-DelayedWorker $queue -Handler @{ 'p:ok' = {}; 'p:bad' = { throw 'no' } } -MetricsPort $port -AsJob
        try {
            $q = $queue.Name
            1..3 | ForEach-Object { Add-DelayedTask $queue p:ok }
            Add-DelayedTask $queue p:bad
            Wait-Until { (Get-Samples $port)["delayed_tasks_processed_total{queue=`"$q`",name=`"p:ok`",outcome=`"succeeded`",reason=`"`"}"] -eq 3 } 'three successes counted'
            Wait-Until { (Get-Samples $port)["delayed_queue_failed{queue=`"$q`"}"] -eq 1 } 'the failed gauge at 1'
            $samples = Get-Samples $port
            $samples["delayed_tasks_processed_total{queue=`"$q`",name=`"p:bad`",outcome=`"failed`",reason=`"Failed`"}"] | Should -Be 1
            $samples["delayed_queue_workers{queue=`"$q`"}"] | Should -Be 1
            $samples["delayed_queue_length{queue=`"$q`"}"] | Should -Be 0
            $samples["delayed_task_duration_seconds_count{queue=`"$q`",name=`"p:ok`",outcome=`"succeeded`"}"] | Should -Be 3
        } finally { $job | Stop-Job; $job | Remove-Job }
        # Stopped with its worker: the port is free again, for a sweeper's endpoint this time.
        { Invoke-WebRequest "http://127.0.0.1:$port/metrics" -UseBasicParsing -TimeoutSec 5 } | Should -Throw
        $sweeper = Start-DelayedSweeper $queue -MetricsPort $port -AsJob
        try {
            Wait-Until { try { (Get-Samples $port)["delayed_queue_up{queue=`"$q`"}"] -eq 1 } catch { $false } } 'the sweeper''s endpoint'
        } finally { $sweeper | Stop-Job; $sweeper | Remove-Job }
    }

    It 'a taken port is a clear error, and -Once with -MetricsPort says what to use instead' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            $port = $listener.LocalEndpoint.Port
            { Start-DelayedWorker $queue -Handler @{ x = {} } -MetricsPort $port -StopWhenEmpty } | Should -Throw "*Cannot serve metrics at http://127.0.0.1:$port/metrics*Choose another port*"
        } finally { $listener.Stop() }
        { Start-DelayedSweeper $queue -Once -MetricsPort 9 } | Should -Throw '*leave out -Once*Export-DelayedMetrics*'
    }

    It 'Export-DelayedMetrics writes the gauges of the named queues to a .prom file, replacing it whole' {
        $one = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $two = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        1..2 | ForEach-Object { Add-DelayedTask $one e:x }
        Suspend-DelayedQueue $two -Reason test
        $path = Join-Path $TestDrive 'delayed.prom'
        Set-Content $path 'old'
        $file = Export-DelayedMetrics $one, $two -Path $path -PassThru
        $file.FullName | Should -Be $path
        $lines = Get-Content $path
        $lines | Should -Contain "delayed_queue_length{queue=`"$($one.Name)`"} 2"
        $lines | Should -Contain "delayed_queue_paused{queue=`"$($two.Name)`"} 1"
        $lines | Should -Contain "delayed_queue_up{queue=`"$($one.Name)`"} 1"
        $lines | Should -Not -Contain 'old'
        @(Get-ChildItem $TestDrive -Force -Filter '*.tmp').Count | Should -Be 0
        Export-DelayedMetrics $one -Path (Join-Path $TestDrive 'x.prom') -WhatIf
        Test-Path (Join-Path $TestDrive 'x.prom') | Should -BeFalse
        { Export-DelayedMetrics $one -Path (Join-Path $TestDrive 'no/such/folder/x.prom') } | Should -Throw '*does not exist*'
    }
}
