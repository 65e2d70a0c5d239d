# Tracked tasks as PowerShell jobs (Add-DelayedTask -AsJob), run by workers in other processes.
BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
    # A worker in a pwsh of its own; the gate file lets 'slow' finish.
    function Start-WorkerProcess([string] $QueueName, [string] $Extra = '') {
        Start-PwshProcess -Script @"
`$queue = New-DelayedQueue '$QueueName' -Redis '$($redis.Configuration)' -DequeueTimeout '00:00:00.2' -KeepAliveTimeout '00:00:02'
[Console]::Out.WriteLine('starting'); [Console]::Out.Flush()
Start-DelayedWorker `$queue $Extra -Handler @{
    'Get-Answer' = { param(`$N) Write-Warning "thinking about `$N"; [pscustomobject]@{ N = `$N; Square = `$N * `$N } }
    'boom' = { param(`$Why) Write-Error "soft: `$Why" -ErrorAction Continue; throw "hard: `$Why" }
    'slow' = { param(`$Gate) [Console]::Out.WriteLine('slow started'); [Console]::Out.Flush(); while (-not (Test-Path `$Gate)) { Start-Sleep -Milliseconds 20 }; 'slow done' }
    'big' = { 1..3000 | ForEach-Object { 'x' * 1000 } }
} | Out-Null
"@
    }
}
AfterAll { Stop-TestRedis $redis }

Describe 'Add-DelayedTask -AsJob' {
    BeforeEach { $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.2' }

    It 'gives one job per task; Wait-Job and Receive-Job return every result from a worker in another process, warnings in their stream' {
        $worker = Start-WorkerProcess $queue.Name '-Concurrency 2'
        try {
            Wait-Line $worker 'starting' | Out-Null
            $enqueuedAt = Get-Date
            $jobs = 1..20 | ForEach-Object { [pscustomobject]@{ Name = 'Get-Answer'; ArgumentList = @($_) } } | Add-DelayedTask $queue -AsJob
            $jobs.Count | Should -Be 20
            $jobs | ForEach-Object { $_ | Should -BeOfType [System.Management.Automation.Job] }
            @(Get-Job -Id $jobs[0].Id).Count | Should -Be 1
            $results = $jobs | Wait-Job -Timeout 60 | Receive-Job -WarningVariable warnings -WarningAction SilentlyContinue
            ($jobs | Where-Object State -ne Completed) | Should -BeNullOrEmpty
            $results.Count | Should -Be 20
            ($results | Sort-Object N).Square | Should -Be (1..20 | ForEach-Object { $_ * $_ })
            $results[0].PSObject.TypeNames | Should -Contain 'Deserialized.System.Management.Automation.PSCustomObject'
            @($warnings).Count | Should -Be 20
            @($warnings.Message) | Should -Contain 'thinking about 7'
            ($jobs | Select-Object -ExpandProperty TrackingId -Unique).Count | Should -Be 20
            # Each says where and when it ran: a slot of that worker, by the worker's clock.
            $slots = @((Get-DelayedWorker $queue).WorkerId)
            $slots.Count | Should -Be 2
            foreach ($job in $jobs) {
                $slots | Should -Contain $job.WorkerId
                $job.StartedAt | Should -Not -BeNullOrEmpty
                $job.StartedAt | Should -BeLessOrEqual $job.EndedAt
                # Whether this session saw it running or only its end: when its worker began it, not when this session looked.
                $job.PSBeginTime | Should -Not -BeNullOrEmpty
                $job.PSBeginTime | Should -BeLessOrEqual $job.EndedAt.LocalDateTime
                $job.PSBeginTime | Should -BeGreaterOrEqual $enqueuedAt.AddSeconds(-1)
            }
        } finally { $worker.Kill(); Get-Job | Remove-Job -Force }
    }

    It 'ends a failing task''s job Failed with its error, and gives back the errors it wrote' {
        $worker = Start-WorkerProcess $queue.Name
        try {
            $job = Add-DelayedTask $queue boom 'disk full' -AsJob
            $job | Wait-Job -Timeout 60 | Out-Null
            $job.State | Should -Be Failed
            $job.StatusMessage | Should -BeLike '*hard: disk full*'
            $errors = $null
            Receive-Job $job -ErrorVariable errors -ErrorAction SilentlyContinue
            @($errors | ForEach-Object { "$_" }) | Should -Contain 'soft: disk full'
            @($errors | ForEach-Object { "$_" }) -join "`n" | Should -BeLike "*Task 'boom' failed (Failed, attempt 1): hard: disk full*"
            { Receive-Job $job -ErrorAction Stop } | Should -Not -Throw -Because 'the records were received already'
            (Get-DelayedTask $queue -Id $job.TrackingId).State | Should -Be Failed
        } finally { $worker.Kill(); Get-Job | Remove-Job -Force }
    }

    It 'stops a queued and a scheduled task with Stop-Job: they leave the queue and never run' {
        $queued = Add-DelayedTask $queue 'Get-Answer' 1 -AsJob
        $scheduled = Add-DelayedTask $queue 'Get-Answer' 2 -Delay '01:00:00' -AsJob
        $scheduled.StatusMessage | Should -Be 'Scheduled'
        $queued, $scheduled | Stop-Job
        $queued.State | Should -Be Stopped
        $scheduled.State | Should -Be Stopped
        (Get-DelayedQueue $queue).Length | Should -Be 0
        @(Get-DelayedTask $queue -Scheduled).Count | Should -Be 0
        (Get-DelayedTask $queue -Id $queued.TrackingId).State | Should -Be Stopped
        Get-Job | Remove-Job -Force
    }

    It 'stops a running task with Stop-Job through its worker (handlers in runspaces), at its next keep-alive: not retried, not a failure' {
        $gate = Join-Path $TestDrive 'never'
        $worker = Start-WorkerProcess $queue.Name '-Concurrency 2'
        try {
            $job = Add-DelayedTask $queue slow $gate -Retry 3 -AsJob
            Wait-Line $worker 'slow started' | Out-Null
            Wait-Until { $job.State -eq 'Running' } 'the job to say Running'
            Stop-Job $job
            $job | Wait-Job -Timeout 30 | Out-Null
            $job.State | Should -Be Stopped
            $job.StatusMessage | Should -BeLike 'Stopped after it ran * ms (Stop-Job)'
            (Get-DelayedTask $queue -Id $job.TrackingId).State | Should -Be Stopped
            (Get-DelayedQueue $queue).Length | Should -Be 0 -Because 'a stopped task is not retried'
            @(Get-DelayedTask $queue -Scheduled).Count | Should -Be 0
            @(Get-DelayedTask $queue -Failed).Count | Should -Be 0
            # The worker goes on with the next task.
            Add-DelayedTask $queue 'Get-Answer' 5 -AsJob | Wait-Job -Timeout 30 | Receive-Job -WarningAction SilentlyContinue | ForEach-Object Square | Should -Be 25
        } finally { $worker.Kill(); Get-Job | Remove-Job -Force }
    }

    It 'finds a task again by its id from another pwsh, as a record and as a job to receive from' {
        $job = Add-DelayedTask $queue 'Get-Answer' 6 -AsJob
        (Get-DelayedTask $queue -Id $job.TrackingId).State | Should -Be Queued
        $reader = Start-PwshProcess -Script @"
`$queue = New-DelayedQueue '$($queue.Name)' -Redis '$($redis.Configuration)'
[Console]::Out.WriteLine('state ' + (Get-DelayedTask `$queue -Id '$($job.TrackingId)').State); [Console]::Out.Flush()
`$result = Get-DelayedTask `$queue -Id '$($job.TrackingId)' -AsJob | Receive-Job -Wait -WarningAction SilentlyContinue
[Console]::Out.WriteLine('square ' + `$result.Square); [Console]::Out.Flush()
"@
        $worker = $null
        try {
            Wait-Line $reader 'state ' | Should -Be 'state Queued'
            $worker = Start-WorkerProcess $queue.Name
            Wait-Line $reader 'square ' | Should -Be 'square 36'
            $job | Wait-Job -Timeout 30 | Receive-Job -WarningAction SilentlyContinue | ForEach-Object Square | Should -Be 36
        } finally { $reader.Kill(); if ($worker) { $worker.Kill() }; Get-Job | Remove-Job -Force }
        { Get-DelayedTask $queue -Id 'not-an-id' -ErrorAction Stop } | Should -Throw '*16 hexadecimal characters*'
        { Get-DelayedTask $queue -Id '0123456789abcdef' -ErrorAction Stop } | Should -Throw '*has no tracked task 0123456789abcdef*'
    }

    It 'ends Disconnected, not guessed, when a worker that keeps no records (Python-shaped) takes the task' {
        $job = Add-DelayedTask $queue 'Get-Answer' 3 -AsJob
        # What a Python worker does: a token, the task, into processing under its own id; it never reports.
        $redis.Db.ListLeftPop("$($queue.Name)_noti") | Out-Null
        $bytes = $redis.Db.ListLeftPop($queue.Name)
        $redis.Db.HashSet("$($queue.Name)_processing", 'python-worker-1', $bytes) | Out-Null
        $job | Wait-Job -Timeout 30 | Out-Null
        $job.State | Should -Be Disconnected
        $job.StatusMessage | Should -BeLike '*keeps no records*not known*'
        (Get-DelayedTask $queue -Id $job.TrackingId).State | Should -Be TakenUntracked
        $warning = $null
        Receive-Job $job -WarningVariable warning -WarningAction SilentlyContinue
        "$warning" | Should -BeLike '*Python or Go*not known*'

        # Stop-Job finds it out as well, at once.
        $second = Add-DelayedTask $queue 'Get-Answer' 4 -AsJob
        $redis.Db.ListLeftPop("$($queue.Name)_noti") | Out-Null
        $redis.Db.ListLeftPop($queue.Name) | Out-Null
        Stop-Job $second
        $second.State | Should -Be Disconnected
        Get-Job | Remove-Job -Force
    }

    It 'stays Running while its worker is killed mid-task, until a sweep puts it back; then completes on another worker' {
        $gate = Join-Path $TestDrive 'gate'
        $first = Start-WorkerProcess $queue.Name
        try {
            $job = Add-DelayedTask $queue slow $gate -AsJob
            Wait-Line $first 'slow started' | Out-Null
            Wait-Until { $job.State -eq 'Running' } 'the job to say Running'
            $workerId = (Get-DelayedTask $queue -Id $job.TrackingId).WorkerId
            $first.Kill()
            $first.WaitForExit()
            Wait-Until { -not $redis.Db.KeyExists($workerId) } "the killed worker's liveness key to expire" 10
            Start-Sleep -Milliseconds 300
            $job.State | Should -Be Running -Because 'nothing has said otherwise: no sweep has run'
            (Start-DelayedSweeper $queue -Once).Recovered | Should -Be 1
            Wait-Until { $job.StatusMessage -eq 'Queued' } 'the job to see its task queued again'
            New-Item $gate | Out-Null
            $second = Start-WorkerProcess $queue.Name
            try {
                $job | Wait-Job -Timeout 60 | Receive-Job | Should -Be 'slow done'
                $job.State | Should -Be Completed
            } finally { $second.Kill() }
        } finally { if (-not $first.HasExited) { $first.Kill() }; Get-Job | Remove-Job -Force }
    }

    It 'gives a duplicate of a unique tracked task a job that follows the task enqueued first, and -PassThru its id' {
        $first = Add-DelayedTask $queue 'Get-Answer' 8 -UniqueFor '00:10:00' -UniqueKey answer -AsJob
        $second = Add-DelayedTask $queue 'Get-Answer' 9 -UniqueFor '00:10:00' -UniqueKey answer -AsJob
        $record = Add-DelayedTask $queue 'Get-Answer' 10 -UniqueFor '00:10:00' -UniqueKey answer -PassThru
        $second.TrackingId | Should -Be $first.TrackingId
        $record.Duplicate | Should -BeTrue
        $record.TrackingId | Should -Be $first.TrackingId
        (Get-DelayedQueue $queue).Length | Should -Be 1
        $worker = Start-WorkerProcess $queue.Name
        try {
            $first, $second | Wait-Job -Timeout 60 | Receive-Job -WarningAction SilentlyContinue | ForEach-Object Square | Should -Be @(64, 64)
        } finally { $worker.Kill(); Get-Job | Remove-Job -Force }
        Add-DelayedTask $queue plain -UniqueFor '00:10:00' -UniqueKey untracked
        { Add-DelayedTask $queue plain -UniqueFor '00:10:00' -UniqueKey untracked -AsJob -ErrorAction Stop } | Should -Throw '*without -AsJob, so no job can follow it*'
    }

    It 'returns what .NET handlers return: a value, and an object of an async method' {
        $examples = Join-Path (Split-Path (Split-Path $env:DELAYED_MODULE)) 'examples/Delayed.Examples.dll'
        $worker = Start-DelayedWorker $queue -AssemblyPath $examples -AsJob
        try {
            $sum = Add-DelayedTask $queue example:add 2, 40 -AsJob
            $disk = Add-DelayedTask $queue example:disk $TestDrive -AsJob
            $sum | Wait-Job -Timeout 30 | Receive-Job | Should -Be 42
            $report = $disk | Wait-Job -Timeout 30 | Receive-Job
            $report.Path | Should -Be $TestDrive
            $report.FreeBytes | Should -BeGreaterThan 0
            $report.TotalBytes | Should -BeGreaterOrEqual $report.FreeBytes
            $report.PSObject.TypeNames[0] | Should -Be 'Deserialized.Delayed.Examples.DiskReport'
        } finally { $worker | Stop-Job -PassThru | Remove-Job -Force; Get-Job | Remove-Job -Force }
    }

    It 'keeps at most 1 MiB of a task''s output, with a note of what it dropped' {
        $worker = Start-WorkerProcess $queue.Name
        try {
            $job = Add-DelayedTask $queue big -AsJob
            $lines = $job | Wait-Job -Timeout 60 | Receive-Job -WarningVariable notes -WarningAction SilentlyContinue
            $job.State | Should -Be Completed
            $lines.Count | Should -BeGreaterThan 900
            $lines.Count | Should -BeLessThan 1100
            "$notes" | Should -BeLike '*truncated*item(s) past the bound of 1,048,576 bytes*'
        } finally { $worker.Kill(); Get-Job | Remove-Job -Force }
    }
}
