BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
    $examples = Join-Path (Split-Path (Split-Path $env:DELAYED_MODULE)) 'examples/Delayed.Examples.dll'
}
AfterAll { Stop-TestRedis $redis }

Describe 'Start-DelayedWorker -Concurrency' {
    BeforeEach { $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.1' }

    It 'runs N tasks at the same time: a barrier that only N simultaneous tasks can pass' {
        $barrier = [System.Threading.Barrier]::new(4)
        [AppDomain]::CurrentDomain.SetData('delayed-test-barrier', $barrier)
        1..4 | ForEach-Object { Add-DelayedTask $queue meet $_ }
        $summary = Start-DelayedWorker $queue -Concurrency 4 -StopWhenEmpty -PassThru -Handler @{
            meet = { param($i) if (-not [AppDomain]::CurrentDomain.GetData('delayed-test-barrier').SignalAndWait(15000)) { throw 'not concurrent' } }
        } | Where-Object { $_ -is [Delayed.WorkerSummary] }
        $summary.Succeeded | Should -Be 4
        $summary.WorkerIds.Count | Should -Be 4
        @($summary.WorkerIds | Select-Object -Unique).Count | Should -Be 4
    }

    It 'runs handlers in runspaces that see -ImportModule and -InitializationScript, not the caller''s variables' {
        $module = Join-Path $TestDrive 'OpsHelpers.psm1'
        Set-Content $module 'function Get-Greeting { param($Name) "hello $Name" }'
        $callerOnly = 'visible only to the caller'
        $out = Join-Path $TestDrive 'greetings.txt'
        Add-DelayedTask $queue greet 'ops', $out
        Start-DelayedWorker $queue -Concurrency 2 -StopWhenEmpty -ImportModule $module -InitializationScript { $script:suffix = '!' } -Handler @{
            greet = { param($Name, $Path) Add-Content $Path ("$(Get-Greeting $Name)$suffix [$callerOnly]") }
        } | Out-Null
        Get-Content $out | Should -Be 'hello ops! []'
    }

    It 'serves several queues in priority order, one worker for all of them' {
        $low = New-DelayedQueue "$($queue.Name)-low" -Redis $redis.Configuration -DequeueTimeout '00:00:00.1'
        1..3 | ForEach-Object { Add-DelayedTask $low job "low$_" }
        1..3 | ForEach-Object { Add-DelayedTask $queue job "high$_" }
        $global:order = [System.Collections.Generic.List[string]]::new()
        $summary = Start-DelayedWorker $queue, $low -StopWhenEmpty -Handler @{ job = { param($n) $global:order.Add($n) } }
        $summary.Queue | Should -Be "$($queue.Name), $($low.Name)"
        $summary.Succeeded | Should -Be 6
        $global:order | Should -Be @('high1', 'high2', 'high3', 'low1', 'low2', 'low3')
        (Start-DelayedWorker $queue, $low -Weighted -StopWhenEmpty -Handler @{ job = {} }).Succeeded | Should -Be 0
    }

    It 'refuses queues on different servers for one worker, saying why' {
        $other = Start-TestRedis
        try {
            $elsewhere = New-DelayedQueue (New-QueueName) -Redis $other.Configuration
            { Start-DelayedWorker $queue, $elsewhere -StopWhenEmpty -Handler @{ job = {} } -ErrorAction Stop } | Should -Throw '*one Redis server*'
        } finally { Stop-TestRedis $other }
    }

    It 'fails a handler that calls exit in a runspace, and the next task of that runspace succeeds' {
        Add-DelayedTask $queue quits
        Add-DelayedTask $queue fine
        $out = Start-DelayedWorker $queue -Concurrency 1 -TaskTimeout '00:01:00' -StopWhenEmpty -PassThru -ErrorVariable workerErrors -ErrorAction SilentlyContinue -Handler @{
            quits = { exit 3 }
            fine = { 'done' }
        }
        $results = @($out | Where-Object { $_ -is [Delayed.TaskResult] })
        ($results | Where-Object Name -eq quits).Status | Should -Be Failed
        ($results | Where-Object Name -eq fine).Status | Should -Be Succeeded
        "$($workerErrors[0])" | Should -BeLike "*called 'exit 3'*return*throw*"
        @(Get-DelayedTask $queue -Failed).Name | Should -Be quits
    }

    It 'treats arguments that cannot be bound as a bad call, and a binding error inside a handler as a failure' {
        Add-DelayedTask $queue strict -Retry 3                                    # missing mandatory parameter
        Add-DelayedTask $queue strict 1 -Parameter @{ Nope = 1 } -Retry 3          # unknown named parameter
        Add-DelayedTask $queue typed 'not a number' -Retry 3                       # cannot convert
        Add-DelayedTask $queue inner -Retry 1                                      # the handler itself calls a command wrongly
        $failures = $null
        $summary = Start-DelayedWorker $queue -Concurrency 2 -StopWhenEmpty -RetryDelay 0 -ErrorVariable failures -ErrorAction SilentlyContinue -WarningAction SilentlyContinue -Handler @{
            strict = { param([Parameter(Mandatory)] $Value) }
            typed  = { param([int] $Count) }
            inner  = { Get-Item -NoSuchParameter 1 }
        }
        @($failures | Where-Object { $_.FullyQualifiedErrorId -like 'TaskBindingFailed*' }).Count | Should -Be 3
        $summary.Retried | Should -Be 1 -Because 'only the handler that ran and failed is retried'
        $summary.Failed | Should -Be 4
    }

    It 'tells handlers in runspaces which attempt they run in $DelayedTask' {
        Add-DelayedTask $queue flaky -Retry 1
        $records = @(Start-DelayedWorker $queue -Concurrency 2 -StopWhenEmpty -RetryDelay 0 -PassThru -ErrorAction SilentlyContinue -WarningAction SilentlyContinue -Handler @{
            flaky = { if ($DelayedTask.Attempt -eq 1) { throw "attempt $($DelayedTask.Attempt) on $($DelayedTask.WorkerId)" } }
        } | Where-Object { $_ -is [Delayed.TaskResult] })
        $records.Status | Should -Be @('Retried', 'Succeeded')
        $records.Attempt | Should -Be @(1, 2)
        $records[0].Error | Should -BeLike 'attempt 1 on *'
    }

    It 'defines registered command handlers in each runspace' {
        function global:Invoke-TestDouble { param([int] $N, $Path) Add-Content $Path ($N * 2) }
        Register-DelayedHandler -Command Invoke-TestDouble
        $out = Join-Path $TestDrive 'double.txt'
        Add-DelayedTask $queue Invoke-TestDouble 21, $out
        (Start-DelayedWorker $queue -Concurrency 2 -StopWhenEmpty).Succeeded | Should -Be 1
        Get-Content $out | Should -Be '42'
        Unregister-DelayedHandler Invoke-TestDouble
    }
}

Describe 'Start-DelayedWorker -TaskTimeout' {
    BeforeEach { $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.1' }

    It 'stops a hung scriptblock, counts it as failed and retries it while its budget lasts' {
        Add-DelayedTask $queue hang -Retry 1
        $failures = $null
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $summary = Start-DelayedWorker $queue -TaskTimeout '00:00:00.5' -StopWhenEmpty -RetryDelay 0 -Handler @{ hang = { Start-Sleep -Seconds 3600 } } -ErrorVariable failures -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 30
        $summary.Retried, $summary.Failed | Should -Be @(1, 1)
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'TaskTimedOut*'
    }

    It 'stops a scriptblock whose timeout is already due when it starts' {
        # The timeout's token is cancelled before the invocation begins: the stop registered then must still end it.
        # (The narrower window, a stop between that registration and the invocation running, which the handler closes
        # by asking again as it starts, is too short to hit from a test.)
        Add-DelayedTask $queue hang
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $summary = Start-DelayedWorker $queue -TaskTimeout '00:00:00.0001' -StopWhenEmpty -Handler @{ hang = { Start-Sleep -Seconds 60 } } -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 30 -Because 'a lost stop lets the handler sleep its 60 s'
        $summary.Failed | Should -Be 1
    }

    It 'cancels a hung .NET handler through its token' {
        $marker = Join-Path $TestDrive 'hang.txt'
        Add-DelayedTask $queue example:hang $marker
        $summary = Start-DelayedWorker $queue -AssemblyPath $examples -TaskTimeout '00:00:00.5' -StopWhenEmpty -RetryDelay 0 -ErrorAction SilentlyContinue
        $summary.Failed | Should -Be 1
        Get-Content $marker | Should -Be @('started', 'cancelled')
    }
}

Describe 'Start-DelayedWorker -LogFormat Json' {
    It 'writes one JSON line per event' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.1'
        Add-DelayedTask $queue ok
        Add-DelayedTask $queue 'no-handler'
        $lines = @(Start-DelayedWorker $queue -StopWhenEmpty -LogFormat Json -Handler @{ ok = {} })
        $lines | ForEach-Object { $_ | Should -BeOfType [string] }
        $events = $lines | ForEach-Object { $_ | ConvertFrom-Json }
        $events.event | Should -Be @('TaskStarted', 'TaskSucceeded', 'TaskReturned', 'WorkerStopped')
        $events[2].level | Should -Be 'warning'
        $events[2].error | Should -BeLike "*'no-handler'*"
        $events[2].task | Should -Be 'no-handler'
        $events[2].retryInMs | Should -BeGreaterThan 0
        $events[1].task | Should -Be 'ok'
        $events[-1].processed | Should -Be 2
    }

    It 'names each task''s arguments in its lines: positional, named, and a Go-shaped payload' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.1'
        Add-DelayedTask $queue patch -ArgumentList 'web7', @(1, 2) -Parameter @{ Reboot = $true }
        Add-DelayedTask $queue 'ops.Patch' -ArgumentList @{ host = 'db3' } -Format Go
        $events = Start-DelayedWorker $queue -StopWhenEmpty -LogFormat Json -Handler @{ patch = { param($Server, $Ids, $Reboot) throw "$Server down" }; 'ops.Patch' = { param($Spec) } } -ErrorAction SilentlyContinue |
            ForEach-Object { $_ | ConvertFrom-Json }
        $failed = $events | Where-Object event -eq TaskFailed
        $failed.args[0] | Should -Be 'web7'
        $failed.args[1] | Should -Be @(1, 2)
        $failed.parameters.Reboot | Should -BeTrue
        $failed.error | Should -Be 'web7 down'
        ($events | Where-Object { $_.event -eq 'TaskSucceeded' }).payload.host | Should -Be 'db3'
    }
}

Describe '-AsJob' {
    It 'runs a worker as a job: Get-Job, Receive-Job, Stop-Job (graceful), Remove-Job' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.1'
        $job = Start-DelayedWorker $queue -Handler @{ work = { param($n) } } -AsJob
        try {
            $job | Should -BeOfType [System.Management.Automation.Job]
            (Get-Job -Id $job.Id).State | Should -Be 'Running'
            1..3 | ForEach-Object { Add-DelayedTask $queue work $_ }
            $records = [System.Collections.Generic.List[object]]::new()
            Wait-Until { $records.AddRange(@(Receive-Job $job)); $records.Count -ge 3 } 'three task records from the job'
            $records.Count | Should -Be 3
            $records | ForEach-Object { $_.Status | Should -Be 'Succeeded' }
            @(Get-DelayedWorker $queue).Count | Should -Be 1
            Stop-Job $job
            $job.State | Should -Be 'Stopped'
            (Receive-Job $job) | Where-Object { $_ -is [Delayed.WorkerSummary] } | Select-Object -ExpandProperty Processed | Should -Be 3
            Get-DelayedWorker $queue | Should -BeNullOrEmpty
        } finally { Remove-Job $job -Force }
        Get-Job -Id $job.Id -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'describes a job by its queue and server, never by the typed command line with its password' {
        $secured = Start-LocalRedis -Arguments '--requirepass', 'hunter2secret'
        try {
            $job = Start-DelayedWorker (New-DelayedQueue secret-q -Redis "$($secured.Configuration),password=hunter2secret") -Handler @{ x = {} } -AsJob
            try {
                $job.Command | Should -Be "Start-DelayedWorker secret-q on $($secured.Configuration)"
                (Get-Job -Id $job.Id | Format-List * -Force | Out-String) | Should -Not -Match 'hunter2secret'
                $sweeper = Start-DelayedSweeper (New-DelayedQueue secret-q -Redis "$($secured.Configuration),password=hunter2secret") -AsJob
                $sweeper.Command | Should -Not -Match 'hunter2secret'
                $sweeper | Stop-Job -PassThru | Remove-Job
            } finally { $job | Stop-Job -PassThru | Remove-Job -Force }
        } finally { Stop-LocalRedis $secured }
    }

    It 'runs a sweeper as a job' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $redis.Db.ListRightPush($queue.TaskKey, 'x') | Out-Null
        $job = Start-DelayedSweeper $queue -Interval '00:00:00.2' -AsJob
        try {
            $results = [System.Collections.Generic.List[object]]::new()
            Wait-Until { $results.AddRange(@(Receive-Job $job)); $results.Count -ge 2 } 'two sweep results from the job' 10
            $results[0].TokenAdjustment | Should -Be 1
            $results[1].TokenAdjustment | Should -Be 0
            Stop-Job $job
            $job.State | Should -Be 'Stopped'
        } finally { Remove-Job $job -Force }
    }

    It 'completes by itself when the worker stops on its own (-MaxTasks)' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $job = Start-DelayedWorker $queue -Handler @{ x = {} } -AsJob -MaxTasks 1
        Add-DelayedTask $queue x
        Wait-Job $job -Timeout 20 | Out-Null
        $job.State | Should -Be 'Completed'
        Remove-Job $job
    }
}
