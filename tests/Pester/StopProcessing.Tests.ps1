# Ctrl+C reaches a cmdlet as StopProcessing; PowerShell.Stop() on its pipeline does exactly that.
BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
    function Start-InRunspace([string] $Script) {
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$env:DELAYED_MODULE'; $Script")
        [pscustomobject]@{ PowerShell = $ps; Handle = $ps.BeginInvoke() }
    }
}
AfterAll { Stop-TestRedis $redis }

Describe 'Ctrl+C' {
    BeforeEach { $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration }

    It 'stops an idle worker within about one dequeue timeout and takes its liveness key with it' {
        $run = Start-InRunspace "Start-DelayedWorker (New-DelayedQueue '$($queue.Name)' -Redis '$($redis.Configuration)') -Handler @{ x = {} }"
        Wait-Until { @(Get-RedisKeys $redis | Where-Object { $_ -match '^[0-9a-f]{32}$' }).Count -gt 0 } 'the worker to register' 10
        $ids = @(Get-RedisKeys $redis | Where-Object { $_ -match '^[0-9a-f]{32}$' })
        $ids.Count | Should -Be 1
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $run.PowerShell.Stop()
        # The key goes as the worker goes offline, which Stop() may return just before under load: wait on it, briefly.
        Wait-Until { -not $redis.Db.KeyExists($ids[0]) } 'the stopped worker''s liveness key to go' 3
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 3
        $run.PowerShell.Dispose()
    }

    It 'puts a task interrupted by the stop back on the queue, unchanged' {
        Add-DelayedTask $queue long 'x'
        $before = ConvertTo-Hex (Get-QueueBytes $redis $queue.TaskKey)[0]
        $run = Start-InRunspace "Start-DelayedWorker (New-DelayedQueue '$($queue.Name)' -Redis '$($redis.Configuration)') -Handler @{ long = { param(`$x) Start-Sleep 3600 } }"
        Wait-Until { $redis.Db.HashLength($queue.ProcessingKey) -gt 0 } 'the worker to take the task' 10
        $redis.Db.HashLength($queue.ProcessingKey) | Should -Be 1
        $run.PowerShell.Stop()
        $redis.Db.HashLength($queue.ProcessingKey) | Should -Be 0
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 1
        $redis.Db.ListLength($queue.TokenKey) | Should -Be 1
        ConvertTo-Hex (Get-QueueBytes $redis $queue.TaskKey)[0] | Should -Be $before
        $run.PowerShell.Dispose()
    }

    It 'puts the task back, not into the failed store, when the handler hears of the stop before the worker does' {
        # PowerShell stops the innermost pipeline (the handler's) before it calls the worker cmdlet's StopProcessing: in that
        # instant the handler fails with PipelineStoppedException while the worker has not been asked to stop.
        Add-DelayedTask $queue stopped 'x'
        $before = ConvertTo-Hex (Get-QueueBytes $redis $queue.TaskKey)[0]
        $summary = Start-DelayedWorker $queue -Handler @{ stopped = { param($x) throw [System.Management.Automation.PipelineStoppedException]::new() } } -StopWhenEmpty -WarningAction SilentlyContinue
        $summary.Retried | Should -Be 1
        $summary.Failed | Should -Be 0
        ConvertTo-Hex (Get-QueueBytes $redis $queue.TaskKey)[0] | Should -Be $before
        $redis.Db.ListLength($queue.TokenKey) | Should -Be 1
        $redis.Db.SortedSetLength("$($queue.Name)_failed") | Should -Be 0
    }

    It 'stops a sweeper loop' {
        $run = Start-InRunspace "Start-DelayedSweeper (New-DelayedQueue '$($queue.Name)' -Redis '$($redis.Configuration)') -Interval '00:01:00'"
        # Running: it says so once, before its first pass.
        Wait-Until { $run.PowerShell.Streams.Information.Count -gt 0 } 'the sweeper to start' 10
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $run.PowerShell.Stop()
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 3
        $run.PowerShell.Dispose()
    }
}
