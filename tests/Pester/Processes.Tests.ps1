# Workers in pwsh processes of their own: killed, stopped by a signal, inspected while they run.
BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
    function Start-WorkerProcess([string] $QueueName, [string] $Handlers, [string] $Extra = '') {
        Start-PwshProcess -Script @"
`$queue = New-DelayedQueue '$QueueName' -Redis '$($redis.Configuration)' -KeepAliveTimeout '00:00:02' -DequeueTimeout '00:00:00.2'
Start-DelayedWorker `$queue -Handler @{ $Handlers } $Extra | Out-Null
"@
    }
}
AfterAll { Stop-TestRedis $redis }

Describe 'A worker process' {
    BeforeEach { $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.1' }

    It 'killed with SIGKILL mid-task has its task recovered by a sweep once its key expires, and run by the next worker' {
        Add-DelayedTask $queue hang 'payload'
        $process = Start-WorkerProcess $queue.Name "hang = { param(`$p) [Console]::Out.WriteLine('claimed'); [Console]::Out.Flush(); Start-Sleep 3600 }"
        try {
            Wait-Line $process 'claimed' | Out-Null
            $inFlight = @(Get-DelayedProcessing $queue)
            $inFlight.Count | Should -Be 1
        } finally { $process.Kill(); $process.WaitForExit() }

        # The key is still alive: a sweep leaves the task alone.
        (Start-DelayedSweeper $queue -Once).Recovered | Should -Be 0
        Wait-Until { -not $redis.Db.KeyExists($inFlight[0].WorkerId) } 'the killed worker''s liveness key to expire' 10
        (Get-DelayedProcessing $queue).WorkerAlive | Should -BeFalse

        $sweep = Start-DelayedSweeper $queue -Once
        $sweep.PSObject.TypeNames[0] | Should -Be 'Delayed.SweepResult'
        $sweep.Recovered | Should -Be 1
        $global:ran = $null
        $summary = Start-DelayedWorker $queue -Handler @{ hang = { param($p) $global:ran = $p } } -StopWhenEmpty
        $summary.Succeeded | Should -Be 1
        $global:ran | Should -Be 'payload'
        $redis.Db.HashLength($queue.ProcessingKey) | Should -Be 0
    }

    It 'stopped with SIG<Signal> <Mode> finishes its tasks, releases them, deletes its liveness keys and exits 0' -ForEach @(
        @{ Signal = 'TERM'; Mode = 'in the foreground'; Slots = 1 }
        @{ Signal = 'HUP'; Mode = 'in the foreground'; Slots = 1 }
        @{ Signal = 'TERM'; Mode = 'with runspaces (-Concurrency 2)'; Slots = 2 }
    ) {
        $markers = 0..$Slots | ForEach-Object { Join-Path ([IO.Path]::GetTempPath()) "delayed-$([Guid]::NewGuid()).txt" }
        $markers | ForEach-Object { Add-DelayedTask $queue slow $_ }
        $extra = if ($Slots -gt 1) { "-Concurrency $Slots" } else { '' }
        $process = Start-WorkerProcess $queue.Name "slow = { param(`$m) [Console]::Out.WriteLine('claimed'); [Console]::Out.Flush(); Start-Sleep -Milliseconds 1500; Set-Content `$m done }" $extra
        try {
            1..$Slots | ForEach-Object { Wait-Line $process 'claimed' | Out-Null }
            $workerIds = (Get-DelayedProcessing $queue).WorkerId
            & kill "-$Signal" $process.Id
            $process.WaitForExit(30000) | Should -BeTrue
            $process.ExitCode | Should -Be 0
        } finally { if (-not $process.HasExited) { $process.Kill() } }
        @($markers | Where-Object { Test-Path $_ }).Count | Should -Be $Slots -Because 'the running tasks finish'
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 1 -Because 'a stopping worker takes no new task'
        $redis.Db.HashLength($queue.ProcessingKey) | Should -Be 0
        foreach ($id in $workerIds) { $redis.Db.KeyExists($id) | Should -BeFalse }
        $markers | Where-Object { Test-Path $_ } | Remove-Item
    }
}

Describe 'Get-DelayedProcessing' {
    It 'shows a running task with its worker, liveness, name, arguments and start time' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        Add-DelayedTask $queue hang 'web01', 3 -Parameter @{ Force = $true } -Retry 2
        $process = Start-WorkerProcess $queue.Name "hang = { param(`$a, `$b, `$Force) [Console]::Out.WriteLine('claimed'); [Console]::Out.Flush(); Start-Sleep 3600 }"
        try {
            Wait-Line $process 'claimed' | Out-Null
            $task = Get-DelayedProcessing $queue
            $task.PSObject.TypeNames[0] | Should -Be 'Delayed.ProcessingTask'
            $task.Name | Should -Be 'hang'
            $task.Format | Should -Be 'Python'
            $task.ArgumentList | Should -Be @('web01', 3)
            $task.Parameter.force | Should -BeTrue
            $task.Retry | Should -Be 2
            $task.WorkerAlive | Should -BeTrue
            $task.TimeToLive.TotalSeconds | Should -BeGreaterThan 0
            $task.TimeToLive.TotalSeconds | Should -BeLessOrEqual 2
            $task.StartedAt | Should -BeLessOrEqual ([DateTimeOffset]::Now)
            $task.StartedAt.Offset | Should -Be ([DateTimeOffset]::Now.Offset) -Because 'times show the local zone'
            $task.Running.TotalSeconds | Should -BeGreaterOrEqual 0
            $task.WorkerHost | Should -Be ([Environment]::MachineName)
            $task.WorkerProcessId | Should -Be $process.Id
            $task.WorkerStartedAt | Should -BeLessOrEqual $task.StartedAt
            $task.SinceLastRefresh.TotalSeconds | Should -BeLessOrEqual 2
            # The table fits an 80-column console with what finds a stuck task.
            $table = $queue | Get-DelayedProcessing | Format-Table | Out-String -Width 80
            $table | Should -Match 'Name\s+WorkerId\s+Alive\s+Running\s+Retry\s+Arguments'
            $table | Should -Match "hang\s+$($task.WorkerId)\s+True\s+[\d.]+ s\s+2\s+web01, 3, Force=True"
        } finally { $process.Kill(); $process.WaitForExit() }
    }

    It 'shows tasks held by other implementations without inventing a start time, and undecodable ones' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $redis.Db.HashSet($queue.ProcessingKey, '12623', (ConvertTo-RedisValue (ConvertFrom-Hex '92 a8 6d 61 69 6e 2e 41 64 64 c4 03 92 01 02')))
        $redis.Db.HashSet($queue.ProcessingKey, 'junk', (ConvertTo-RedisValue ([byte[]](0xc1))))
        $redis.Db.StringSet('12623', '1') | Out-Null
        $tasks = @(Get-DelayedProcessing $queue | Sort-Object WorkerId)
        $tasks[0].Name | Should -Be 'main.Add'
        $tasks[0].Format | Should -Be 'Go'
        $tasks[0].WorkerAlive | Should -BeTrue
        $tasks[0].StartedAt | Should -BeNullOrEmpty
        $tasks[0].WorkerHost | Should -BeNullOrEmpty -Because 'nothing is invented for other implementations'
        $tasks[0].SinceLastRefresh | Should -BeNullOrEmpty
        $tasks[1].Name | Should -BeNullOrEmpty
        $tasks[1].DecodeError | Should -Not -BeNullOrEmpty
        $tasks[1].WorkerAlive | Should -BeFalse
    }
}

Describe 'Start-DelayedSweeper' {
    It 'writes one record per queue and pass' {
        $a = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $b = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $redis.Db.ListRightPush($a.TaskKey, 'x') | Out-Null
        $redis.Db.ListRightPush($b.TokenKey, '1') | Out-Null
        $results = @($a, $b | Start-DelayedSweeper -Once)
        $results.Count | Should -Be 2
        $results[0].TokenAdjustment | Should -Be 1
        $results[1].TokenAdjustment | Should -Be -1
        ($results | Format-Table | Out-String) | Should -Match 'Recovered\s+TokenAdjustment'
    }

    It 'with -Once, says in one error that Redis is out of reach (RedisUnavailable), with the client''s screenful of counters in its inner exception' {
        $gone = Start-TestRedis
        $queue = New-DelayedQueue jobs -Redis $gone.Configuration
        Stop-TestRedis $gone
        $verbose = Start-DelayedSweeper $queue -Once -WarningVariable said -WarningAction SilentlyContinue -ErrorVariable failed -ErrorAction SilentlyContinue -Verbose 4>&1
        # One pass that did nothing is an error a script sees (a sweeper that runs on rides it out with a warning instead).
        @($failed).Count | Should -Be 1 -Because "both steps failed for one reason ($($failed -join ' | '))"
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'RedisUnavailable,*'
        "$($failed[0])" | Should -Match "^Sweeping queue 'jobs' failed: Redis did not answer: [^\r\n]{10,200}Check that the server is up"
        "$($failed[0])" | Should -Not -Match ', v: ' # the client's counters stay in the exception
        $failed[0].Exception.InnerException.Message | Should -Match ', v: '
        $said | Should -BeNullOrEmpty
        # The move of due tasks is not tried after the sweep found Redis out of reach: one wait for the timeout, not two.
        @($verbose | Where-Object { "$_" -like "Moving due scheduled tasks*" }) | Should -BeNullOrEmpty
    }

    It 'with -Once, waits for a server that is down once, not once per queue, and says it once' {
        $gone = Start-TestRedis
        $queues = 'a', 'b', 'c' | ForEach-Object { New-DelayedQueue $_ -Redis $gone.Configuration }
        Stop-TestRedis $gone
        $verbose = $queues | Start-DelayedSweeper -Once -ErrorVariable failed -ErrorAction SilentlyContinue -Verbose 4>&1
        @($failed).Count | Should -Be 1 -Because "one server down is one error ($($failed -join ' | '))"
        "$($failed[0])" | Should -BeLike "Sweeping queue 'a' failed: Redis did not answer*"
        foreach ($name in 'b', 'c') {
            @($verbose | Where-Object { "$_" -eq "Sweeping queue '$name' failed: Not tried: Redis did not answer the sweep of queue 'a' in this pass." }).Count | Should -Be 1 -Because "queue $name is not tried again ($($verbose -join ' | '))"
        }
    }

    It 'with -Once, says that a server refusing for a while (BUSY) refused it: RedisRefused, run it again' {
        $own = Start-LocalRedis -Arguments '--busy-reply-threshold', '100'
        $busy = $null
        try {
            $queue = New-DelayedQueue jobs -Redis $own.Configuration
            Start-DelayedSweeper $queue -Once | Out-Null # connected, and its scripts loaded
            $busy = Start-Process redis-cli -ArgumentList '-p', $own.Port, 'EVAL', '"while true do end"', '0' -PassThru -RedirectStandardOutput (Join-Path $TestDrive 'busy.out')
            Wait-Until { (& redis-cli -p $own.Port PING) -like 'BUSY*' } 'the script to hold the server'
            Start-DelayedSweeper $queue -Once -WarningVariable said -WarningAction SilentlyContinue -ErrorVariable failed -ErrorAction SilentlyContinue | Out-Null
            @($failed).Count | Should -Be 1
            $failed[0].FullyQualifiedErrorId | Should -BeLike 'RedisRefused,*'
            "$($failed[0])" | Should -BeLike "Sweeping queue 'jobs' failed: Redis refused for now: BUSY Redis is busy running a script*Run this again once Redis serves again*"
            $said | Should -BeNullOrEmpty
        } finally {
            if ($busy -and -not $busy.HasExited) { & redis-cli -p $own.Port SCRIPT KILL | Out-Null; $busy.Kill() }
            Stop-LocalRedis $own
        }
    }

    It 'running at an interval, says once that Redis refuses it, however often its passes and moves fail meanwhile, and when it answers again' {
        $own = Start-LocalRedis -Arguments '--busy-reply-threshold', '100'
        $busy = $null; $job = $null
        try {
            $queue = New-DelayedQueue jobs -Redis $own.Configuration
            $job = Start-DelayedSweeper $queue -Interval '00:00:00.2' -AsJob
            Wait-Until { @($job.Output).Count -ge 1 } 'a first pass'
            $busy = Start-Process redis-cli -ArgumentList '-p', $own.Port, 'EVAL', '"while true do end"', '0' -PassThru -RedirectStandardOutput (Join-Path $TestDrive 'busy.out')
            # Passes every 0.2 s and the moving of due tasks every second: many refusals.
            Wait-Until { @($job.Verbose | Where-Object { "$_" -like '*BUSY*' }).Count -ge 4 } 'four refused calls of the sweeper' 30 { "verbose: $(@($job.Verbose).Count); errors: $($job.Error -join ' | ')" }
            & redis-cli -p $own.Port SCRIPT KILL | Out-Null
            Wait-Until { (@($job.Information) | ForEach-Object { "$_" }) -like 'Redis answers the sweeper of queue ''jobs'' again, after *' } 'the sweeper to say that Redis serves it again' 30
            @($job.Warning | Where-Object Message -like '*BUSY*').Count | Should -Be 1 -Because "one refusal that lasts is one warning ($(@($job.Warning.Message) -join ' | '))"
            @($job.Error).Count | Should -Be 0
        } finally {
            if ($job) { $job | Stop-Job; $job | Remove-Job -Force }
            if ($busy -and -not $busy.HasExited) { & redis-cli -p $own.Port SCRIPT KILL | Out-Null; $busy.Kill() }
            Stop-LocalRedis $own
        }
    }

    It 'moves the due tasks of the other queues while one queue''s schedule cannot be read, and says that once, not every second' {
        $broken = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $fine = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $redis.Db.StringSet("$($broken.Name)_scheduled", 'not a sorted set') | Out-Null # every move of its due tasks fails (WRONGTYPE)
        Add-DelayedTask $fine m:f -Delay '00:00:00.5'
        $job = Start-DelayedSweeper $broken, $fine -AsJob
        try {
            Wait-Until { $redis.Db.ListLength($fine.TaskKey) -eq 1 } 'the fine queue''s task to be moved when due' 30 { "errors: $($job.Error -join ' | ')" }
            # The premise: the move was tried (and failed) again and again meanwhile; each failure is an error or a verbose line.
            $failed = "Moving due scheduled tasks to queue '$($broken.Name)' failed*: WRONGTYPE*"
            Wait-Until { @(@($job.Verbose) + @($job.Error) | Where-Object { "$_" -like $failed }).Count -ge 3 } 'three failed moves' 30
            $errors = @($job.Error)
            $errors.Count | Should -Be 1 -Because "one failure that lasts is one error ($($errors -join ' | '))"
            $errors[0].FullyQualifiedErrorId | Should -BeLike 'PromotionFailed*'
            "$($errors[0])" | Should -BeLike "Moving due scheduled tasks to queue '$($broken.Name)' failed: WRONGTYPE*It tries again in a second."
            @($job.Information) | Should -BeNullOrEmpty -Because 'the fine queue''s moves do not say that the broken one works again'
        } finally {
            $job | Stop-Job; $job | Remove-Job -Force
        }
    }

    It 'changes nothing with -WhatIf' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $redis.Db.HashSet($queue.ProcessingKey, 'gone-worker', 'task bytes') | Out-Null
        $redis.Db.ListRightPush($queue.TokenKey, '1') | Out-Null
        Start-DelayedSweeper $queue -Once -WhatIf | Should -BeNullOrEmpty
        $redis.Db.HashLength($queue.ProcessingKey) | Should -Be 1
        $redis.Db.ListLength($queue.TokenKey) | Should -Be 1
    }

    It 'takes a list of queue names on the default server, and names and queue objects mixed' {
        $a = New-QueueName; $b = New-QueueName
        $redis.Db.ListRightPush($a, 'x') | Out-Null
        $redis.Db.ListRightPush($b, 'x') | Out-Null
        $env:DELAYED_REDIS = $redis.Configuration
        try {
            $results = @(Start-DelayedSweeper $a, $b -Once)
            $results.Queue | Should -Be @($a, $b)
            $results.TokenAdjustment | Should -Be @(1, 1)
            $mixed = @(Start-DelayedSweeper $a, (New-DelayedQueue $b -Redis $redis.Configuration) -Once)
            $mixed.Queue | Should -Be @($a, $b)
        } finally { Remove-Item Env:DELAYED_REDIS }
    }
}
