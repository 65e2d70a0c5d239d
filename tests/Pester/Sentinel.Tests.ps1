# New-DelayedQueue -SentinelService against a real redis-sentinel watching a primary and a replica: enqueue, work
# and inspect through the sentinel, and a worker started before a failover runs the tasks added after it.
BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    # The same harness as the xunit tests.
    Add-Type -Path "$PSScriptRoot/../Shared/LocalRedisServer.cs", "$PSScriptRoot/../Shared/LocalRedisSentinel.cs"
    $setup = [Delayed.Testing.LocalRedisSentinel]::StartAsync().GetAwaiter().GetResult()
    $service = [Delayed.Testing.LocalRedisSentinel]::ServiceName
}
AfterAll { if ($setup) { $setup.Dispose() } }

Describe 'New-DelayedQueue -SentinelService' {
    It 'names the service in the queue object, and a worker follows the primary through a failover' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $setup.SentinelConfiguration -SentinelService $service -DequeueTimeout '00:00:00.2'
        $queue.Redis | Should -Be "service $service via sentinel $($setup.SentinelConfiguration)"
        $marker = Join-Path ([IO.Path]::GetTempPath()) "delayed-sentinel-$([Guid]::NewGuid().ToString('N'))"
        $job = Start-DelayedWorker $queue -AsJob -Handler @{ 'm:mark' = { param($Path, $N) Add-Content -LiteralPath $Path -Value $N } }
        try {
            Add-DelayedTask $queue m:mark -ArgumentList $marker, 1
            Wait-Until { (Test-Path $marker) -and @(Get-Content $marker).Count -eq 1 } 'the worker to run the task added before the failover'
            $before = $setup.PrimaryPortAsync().GetAwaiter().GetResult()
            $setup.FailOverAsync().GetAwaiter().GetResult()
            $setup.PrimaryPortAsync().GetAwaiter().GetResult() | Should -Not -Be $before
            Add-DelayedTask $queue m:mark -ArgumentList $marker, 2
            Wait-Until { @(Get-Content $marker).Count -eq 2 } 'the same worker to run the task added on the new primary' 60
            $job.State | Should -Be Running
            (Get-DelayedQueue $queue).Length | Should -Be 0
        } finally {
            $job | Stop-Job -PassThru | Remove-Job -Force
            Remove-Item $marker -ErrorAction Ignore
        }
    }

    It 'refuses an unknown service name, naming the ones the sentinel monitors' {
        { New-DelayedQueue q -Redis "$($setup.SentinelConfiguration),connectTimeout=2000" -SentinelService no-such-service } |
            Should -Throw "*service no-such-service via sentinel $($setup.SentinelConfiguration)*: the sentinel at $($setup.SentinelConfiguration) monitors no primary named 'no-such-service' (it monitors '$service'). Give one of those names*"
    }

    It 'says that a sentinel given as a Redis server is one, and the service to name; and the reverse' {
        $failure = try { New-DelayedQueue q -Redis "$($setup.SentinelConfiguration),connectTimeout=1000" -ErrorAction Stop } catch { $_ }
        $failure.FullyQualifiedErrorId | Should -BeLike 'RedisUnreachable,*'
        $failure.Exception.Message | Should -BeLike "Cannot connect to Redis at $($setup.SentinelConfiguration): $($setup.SentinelConfiguration) is a Redis Sentinel, not a Redis server (it monitors '$service'). Give the name of the primary it monitors with -SentinelService*"
        $primary = "127.0.0.1:$($setup.PrimaryPortAsync().GetAwaiter().GetResult())"
        $failure = try { New-DelayedQueue q -Redis $primary -SentinelService $service -ErrorAction Stop } catch { $_ }
        $failure.Exception.Message | Should -BeLike "Cannot connect to Redis at service $service via sentinel $($primary): $primary is a Redis server, not a Redis Sentinel. Give the sentinels' addresses with -SentinelService, or leave -SentinelService (and serviceName=) out*"
    }
}
