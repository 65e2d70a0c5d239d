# Inspecting and fixing stuck tasks: Get-DelayedQueue, Get-DelayedTask, Get-DelayedWorker, Get-DelayedProcessing
# filters, Restore-DelayedTask, Remove-DelayedTask, Clear-DelayedQueue, Stop-DelayedWorker.
BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis

    function Set-Held($queue, [string] $workerId, [byte[]] $bytes, [switch] $Alive, [TimeSpan] $RunningFor = [TimeSpan]::Zero) {
        # A task held as one of our workers holds it: processing entry, claim stamp, optional liveness key.
        $redis.Db.HashSet($queue.ProcessingKey, $workerId, (ConvertTo-RedisValue $bytes))
        $started = [DateTimeOffset]::UtcNow.Subtract($RunningFor).ToUnixTimeMilliseconds()
        $redis.Db.HashSet("$($queue.Name)_inflight", $workerId, "1:$started")
        if ($Alive) { $redis.Db.StringSet($workerId, '1', [TimeSpan]::FromMinutes(5)) | Out-Null }
    }
    function Get-Commandstat([string] $command) {
        $info = $redis.Db.Execute('INFO', 'commandstats').ToString()
        if ($info -match "cmdstat_${command}:calls=(\d+)") { [long]$Matches[1] } else { 0L }
    }
    function Start-WorkerProcess([string] $QueueName, [string] $Handlers, [string] $Extra = '') {
        Start-PwshProcess -Script @"
`$queue = New-DelayedQueue '$QueueName' -Redis '$($redis.Configuration)' -DequeueTimeout '00:00:00.2'
[Console]::Out.WriteLine('starting'); [Console]::Out.Flush()
Start-DelayedWorker `$queue -Handler @{ $Handlers } $Extra | Out-Null
"@
    }
    $task1 = ConvertFrom-Hex '92 a3 6d 3a 66 91 01'
    $task2 = ConvertFrom-Hex '92 a3 6d 3a 66 91 02'
}
AfterAll { Stop-TestRedis $redis }

Describe 'Get-DelayedQueue' {
    It 'counts waiting tasks, tokens, drift, in-flight tasks and their live and gone workers' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        1..3 | ForEach-Object { Add-DelayedTask $queue m:f $_ }
        $redis.Db.ListLeftPop($queue.TokenKey) | Out-Null
        Set-Held $queue "$($queue.Name)-live" $task1 -Alive
        Set-Held $queue "$($queue.Name)-dead" $task2
        $info = Get-DelayedQueue $queue
        $info.PSObject.TypeNames[0] | Should -Be 'Delayed.QueueInfo'
        $info.Length, $info.Tokens, $info.Drift | Should -Be @(3, 2, -1)
        $info.InFlight, $info.InFlightWorkersAlive, $info.InFlightWorkersGone | Should -Be @(2, 1, 1)
        ($info | Format-Table | Out-String) | Should -Match 'Drift'
    }
}

Describe 'Get-DelayedQueue without a queue' {
    It 'lists every queue of the server, found without KEYS, and takes several queues' {
        $own = Start-TestRedis
        try {
            foreach ($name in 'alpha', 'beta', '{gamma}') { Add-DelayedTask (New-DelayedQueue $name -Redis $own.Configuration) m:f }
            Add-DelayedTask (New-DelayedQueue later -Redis $own.Configuration) m:f -Delay 01:00:00
            $own.Db.StringSet('not-a-queue', 'x') | Out-Null
            $before = $own.Db.Execute('INFO', 'commandstats').ToString()
            $all = @(Get-DelayedQueue -Redis $own.Configuration)
            $all.Name | Sort-Object | Should -Be (@('alpha', 'beta', 'later', '{gamma}') | Sort-Object)
            ($all | Where-Object Name -eq 'later').Scheduled | Should -Be 1
            $own.Db.Execute('INFO', 'commandstats').ToString() | Should -Not -Match 'cmdstat_keys:'
            $env:DELAYED_REDIS = $own.Configuration
            try { @(Get-DelayedQueue alpha, beta).Length | Should -Be 2 } finally { Remove-Item Env:DELAYED_REDIS }
        } finally { Stop-TestRedis $own }
    }
}

Describe 'Get-DelayedTask' {
    BeforeAll {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        1..25 | ForEach-Object { [pscustomobject]@{ Name = 'm:f'; ArgumentList = @($_); Retry = $_ % 3 } } | Add-DelayedTask $queue
    }

    It 'peeks at tasks from the head with their position and decoded content, taking nothing' {
        $tasks = @(Get-DelayedTask $queue -First 3 -Skip 10)
        $tasks.Position | Should -Be @(10, 11, 12)
        $tasks[0].PSObject.TypeNames[0] | Should -Be 'Delayed.QueuedTask'
        $tasks[0].Name | Should -Be 'm:f'
        $tasks[0].ArgumentList | Should -Be @(11)
        $tasks[0].Retry | Should -Be 2
        $tasks[0].Size | Should -Be $tasks[0].Bytes.Length
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 25
        @(Get-DelayedTask $queue).Count | Should -Be 25
        @(Get-DelayedTask $queue -Skip 24).Position | Should -Be @(24)
    }

    It 'shows every argument in its table: positional ones, then parameters; lists and maps as JSON' {
        $other = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        Add-DelayedTask $other 'Sync-Folder' @('a', 'b'), 7 -Parameter ([ordered]@{ Deep = $true; When = $null; Map = @{ x = 1 } })
        $table = Get-DelayedTask $other | Format-Table | Out-String -Width 200
        $table | Should -Match ([regex]::Escape('["a","b"], 7, Deep=True, When=$null, Map={"x":1}'))
    }

    It 'answers -First 10 on a queue of 1,000,000 tasks with one range read, not a scan' {
        $big = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $chunk = [StackExchange.Redis.RedisValue[]]::new(10000)
        for ($i = 0; $i -lt $chunk.Length; $i++) { $chunk[$i] = ConvertTo-RedisValue $task1 }
        for ($i = 0; $i -lt 100; $i++) { $redis.Db.ListRightPush($big.TaskKey, $chunk) | Out-Null }
        $redis.Db.ListLength($big.TaskKey) | Should -Be 1000000
        $before = Get-Commandstat lrange
        $first = @(Get-DelayedTask $big -First 10)
        (Get-Commandstat lrange) - $before | Should -Be 1
        $first.Count | Should -Be 10
        $before = Get-Commandstat lrange
        @(Get-DelayedTask $big | Select-Object -First 3).Count | Should -Be 3
        (Get-Commandstat lrange) - $before | Should -Be 1 -Because 'a pipeline that stops early stops the reading'
        $redis.Db.KeyDelete($big.TaskKey) | Out-Null
    }
}

Describe 'Get-DelayedProcessing filters' {
    It 'takes the worker from the pipeline: a worker piped in gives that worker''s tasks only' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        Set-Held $queue 'piped-one' $task1
        Set-Held $queue 'piped-two' $task2
        $tasks = @([pscustomobject]@{ Queue = $queue; WorkerId = 'piped-two' } | Get-DelayedProcessing)
        $tasks.WorkerId | Should -Be @('piped-two')
    }

    It 'filters by worker id, by age, and finds stuck tasks' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        Set-Held $queue 'gone' $task1 -RunningFor ([TimeSpan]::FromMinutes(1))
        Set-Held $queue "$($queue.Name)-old" $task2 -Alive -RunningFor ([TimeSpan]::FromHours(2))
        Set-Held $queue "$($queue.Name)-new" $task2 -Alive
        @(Get-DelayedProcessing $queue).Count | Should -Be 3
        (Get-DelayedProcessing $queue -WorkerId gone).WorkerId | Should -Be 'gone'
        (Get-DelayedProcessing $queue -OlderThan (New-TimeSpan -Minutes 30)).WorkerId | Should -Be "$($queue.Name)-old"
        @(Get-DelayedProcessing $queue -Stuck).WorkerId | Sort-Object | Should -Be (@("$($queue.Name)-old", 'gone') | Sort-Object)
        @(Get-DelayedProcessing $queue -Stuck -OlderThan (New-TimeSpan -Hours 3)).WorkerId | Should -Be @('gone')
    }
}

Describe 'Restore-DelayedTask' {
    BeforeEach { $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration }

    It 'puts a dead worker''s task back at the head with its token, once' {
        Add-DelayedTask $queue m:f 9
        Set-Held $queue 'dead1' $task1
        Get-DelayedProcessing $queue | Restore-DelayedTask
        ConvertTo-Hex (Get-QueueBytes $redis $queue.TaskKey)[0] | Should -Be (ConvertTo-Hex $task1)
        $redis.Db.ListLength($queue.TokenKey) | Should -Be 2
        $redis.Db.HashLength($queue.ProcessingKey) | Should -Be 0
        $failure = $null
        Restore-DelayedTask $queue -WorkerId dead1 -Bytes $task1 -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'TaskNotHeld*'
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 2 -Because 'a second restore of the same task does nothing'
    }

    It 'restores to the tail with -Tail' {
        Add-DelayedTask $queue m:f 9
        Set-Held $queue 'dead2' $task1
        Get-DelayedProcessing $queue | Restore-DelayedTask -Tail
        ConvertTo-Hex (Get-QueueBytes $redis $queue.TaskKey)[-1] | Should -Be (ConvertTo-Hex $task1)
    }

    It 'refuses a live worker''s task unless -Force, and does nothing with -WhatIf' {
        Set-Held $queue "$($queue.Name)-live" $task1 -Alive
        $failure = $null
        Get-DelayedProcessing $queue | Restore-DelayedTask -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'WorkerAlive*'
        $failure[0].ToString() | Should -BeLike '*-Force*'
        # -WhatIf tells the same refusal the run would meet, instead of promising a restore.
        $whatIf = $null
        Get-DelayedProcessing $queue | Restore-DelayedTask -WhatIf -ErrorVariable whatIf -ErrorAction SilentlyContinue
        $whatIf[0].FullyQualifiedErrorId | Should -BeLike 'WorkerAlive*'
        Get-DelayedProcessing $queue | Restore-DelayedTask -Force -WhatIf
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 0
        Get-DelayedProcessing $queue | Restore-DelayedTask -Force -PassThru | Select-Object -ExpandProperty WorkerId | Should -Be "$($queue.Name)-live"
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 1
    }

    It 'never races a worker''s release: the task ends up queued once, or released, never both' {
        Add-DelayedTask $queue slow
        $process = Start-WorkerProcess $queue.Name "slow = { [Console]::Out.WriteLine('claimed'); [Console]::Out.Flush(); Start-Sleep -Milliseconds 300 }" '-MaxTasks 1'
        try {
            Wait-Line $process 'claimed' | Out-Null
            $held = Get-DelayedProcessing $queue
            $deadline = [DateTime]::UtcNow.AddMilliseconds(600)
            $restored = 0
            # Keep trying to restore the very bytes the worker holds while it finishes and releases them.
            while ([DateTime]::UtcNow -lt $deadline) {
                $held | Restore-DelayedTask -Force -ErrorAction SilentlyContinue -PassThru | ForEach-Object { $restored++ }
                Start-Sleep -Milliseconds 20
            }
            $process.WaitForExit(30000) | Should -BeTrue
        } finally { if (-not $process.HasExited) { $process.Kill() } }
        $restored | Should -BeLessOrEqual 1
        $redis.Db.ListLength($queue.TaskKey) | Should -Be $restored
        $redis.Db.ListLength($queue.TokenKey) | Should -Be $restored
        $redis.Db.HashLength($queue.ProcessingKey) | Should -Be 0
    }
}

Describe 'Remove-DelayedTask' {
    BeforeEach { $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration }

    It 'deletes queued tasks from Get-DelayedTask, each with one token' {
        1..4 | ForEach-Object { Add-DelayedTask $queue "t$($_ % 2)" $_ }
        Get-DelayedTask $queue | Where-Object Name -eq 't1' | Remove-DelayedTask -WhatIf
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 4
        Get-DelayedTask $queue | Where-Object Name -eq 't1' | Remove-DelayedTask -Confirm:$false
        @(Get-DelayedTask $queue).ArgumentList | Should -Be @(2, 4)
        $redis.Db.ListLength($queue.TokenKey) | Should -Be 2
    }

    It 'removes every matching task of a 3,000-task queue piped from Get-DelayedTask, and nothing else' {
        $tasks = 1..3000 | ForEach-Object { [pscustomobject]@{ Name = ('Keep', 'Format-Disk')[$_ % 2]; ArgumentList = @($_) } }
        $tasks | Add-DelayedTask $queue
        Get-DelayedTask $queue | Where-Object Name -eq 'Format-Disk' | Remove-DelayedTask -Confirm:$false
        $left = @(Get-DelayedTask $queue)
        $left.Count | Should -Be 1500
        @($left | Where-Object Name -ne 'Keep').Count | Should -Be 0
        $redis.Db.ListLength($queue.TokenKey) | Should -Be 1500
    }

    It 'removes every matching task while a worker takes tasks at the same time, and loses no other' {
        1..3000 | ForEach-Object { [pscustomobject]@{ Name = ('Keep', 'Format-Disk')[$_ % 2]; ArgumentList = @($_) } } | Add-DelayedTask $queue
        $worker = Start-WorkerProcess $queue.Name "'Keep' = { param(`$i) Start-Sleep -Milliseconds 1 }; 'Format-Disk' = { param(`$i) Start-Sleep -Milliseconds 1 }" `
            '-StopWhenEmpty -PassThru | Group-Object Name -NoElement | ForEach-Object { [Console]::Out.WriteLine("ran $($_.Name) $($_.Count)") }; [Console]::Out.WriteLine(''done'')'
        Wait-Line $worker 'starting' | Out-Null
        Wait-Until { $redis.Db.ListLength($queue.TaskKey) -lt 2990 } 'the worker to start taking tasks'
        $notFound = $null
        $listed = @(Get-DelayedTask $queue | Where-Object Name -eq 'Format-Disk')
        $listed | Remove-DelayedTask -Confirm:$false -ErrorVariable notFound -ErrorAction SilentlyContinue
        $redis.Db.ListLength($queue.TaskKey) | Should -BeGreaterThan 0 -Because 'the worker must still be taking tasks while they are removed'
        @(Get-DelayedTask $queue | Where-Object Name -eq 'Format-Disk').Count | Should -Be 0
        $ran = @{}
        while (($line = Wait-Match $worker '^(ran|done)') -ne 'done') { $name, $count = $line.Substring(4) -split ' '; $ran[$name] = [int]$count }
        $worker.WaitForExit()
        $ran['Keep'] | Should -Be 1500
        $ran['Format-Disk'] + $listed.Count - @($notFound).Count | Should -Be 1500
    }

    It 'reports a queued task that is gone' {
        Add-DelayedTask $queue m:f 1
        $task = Get-DelayedTask $queue
        $redis.Db.ListLeftPop($queue.TaskKey) | Out-Null
        $failure = $null
        $task | Remove-DelayedTask -Confirm:$false -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'TaskNotFound*'
    }

    It 'deletes an in-flight task of a dead worker, and a live one''s only with -Force' {
        Set-Held $queue 'dead3' $task1
        Set-Held $queue "$($queue.Name)-live" $task2 -Alive
        Get-DelayedProcessing $queue -WorkerId dead3 | Remove-DelayedTask -Confirm:$false
        $failure = $null
        Get-DelayedProcessing $queue | Remove-DelayedTask -Confirm:$false -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'WorkerAlive*'
        Get-DelayedProcessing $queue | Remove-DelayedTask -Force -Confirm:$false
        $redis.Db.HashLength($queue.ProcessingKey) | Should -Be 0
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 0
    }
}

Describe 'Clear-DelayedQueue' {
    It 'deletes the queue''s keys and extension keys, and nothing else' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        Add-DelayedTask $queue m:f
        Set-Held $queue "$($queue.Name)-live" $task1 -Alive
        $redis.Db.HashSet("$($queue.Name)_workers", "$($queue.Name)-live", 'x') | Out-Null
        $redis.Db.HashSet("$($queue.Name)_control", "$($queue.Name)-live", 'stop') | Out-Null
        $redis.Db.StringSet("$($queue.Name)_other", 'keep') | Out-Null
        Clear-DelayedQueue $queue -WhatIf
        $redis.Db.KeyExists($queue.TaskKey) | Should -BeTrue
        $queue | Clear-DelayedQueue -Confirm:$false
        Get-RedisKeys $redis "$($queue.Name)*" | Sort-Object | Should -Be (@("$($queue.Name)-live", "$($queue.Name)_other") | Sort-Object)
    }

    It 'does nothing on a queue that does not exist, saying so with -Verbose' {
        $note = Clear-DelayedQueue (New-DelayedQueue (New-QueueName) -Redis $redis.Configuration) -Confirm:$false -Verbose -ErrorAction Stop 4>&1
        "$note" | Should -Match 'nothing to clear'
    }
}

Describe 'Stop-DelayedWorker and Get-DelayedWorker' {
    It 'stops a worker running in another pwsh process, gracefully' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $process = Start-WorkerProcess $queue.Name 'x = {}'
        try {
            Wait-Line $process 'starting' | Out-Null
            Wait-Until { Get-DelayedWorker $queue } 'the worker to register'
            $worker = Get-DelayedWorker $queue
            $worker.PSObject.TypeNames[0] | Should -Be 'Delayed.WorkerInfo'
            $worker.ProcessId | Should -Be $process.Id
            $worker.Host | Should -Be ([Environment]::MachineName)
            $worker.Alive | Should -BeTrue
            $worker.Queues | Should -Be @($queue.Name)
            $worker.SinceLastRefresh.TotalSeconds | Should -BeLessThan 16
            # The table fits an 80-column console with everything an admin acts on.
            $table = $worker | Format-Table | Out-String -Width 80
            $table | Should -Match 'WorkerId\s+Host\s+PID\s+Alive\s+Refreshed\s+Stopping'
            $table | Should -Match "$($worker.WorkerId)\s+$([regex]::Escape([Environment]::MachineName))\s+$($process.Id)\s+True\s+\d+ s ago\s+False"
            # Every header is a property that Where-Object takes.
            (Get-DelayedWorker $queue | Where-Object PID -eq $process.Id | Where-Object Stopping -eq $false | Where-Object Refreshed -lt ([TimeSpan]::FromMinutes(1))).WorkerId | Should -Be $worker.WorkerId
            $worker | Stop-DelayedWorker -WhatIf
            # -WhatIf wrote no stop request, the only thing the worker would act on.
            $redis.Db.HashExists("$($queue.Name)_control", $worker.WorkerId) | Should -BeFalse
            (Get-DelayedWorker $queue).StopRequested | Should -BeFalse
            $worker | Stop-DelayedWorker
            $process.WaitForExit(10000) | Should -BeTrue
            $process.ExitCode | Should -Be 0
        } finally { if (-not $process.HasExited) { $process.Kill() } }
        Get-DelayedWorker $queue | Should -BeNullOrEmpty
        $redis.Db.KeyExists($worker.WorkerId) | Should -BeFalse
    }

    It 'lists a worker of several queues on each, with its queues, and stops it through any of them' {
        $high = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.1'
        $low = New-DelayedQueue "$($high.Name)-low" -Redis $redis.Configuration -DequeueTimeout '00:00:00.1'
        $job = Start-DelayedWorker $high, $low -Handler @{ x = {} } -AsJob
        try {
            Wait-Until { Get-DelayedWorker $low } 'the worker to be listed on its second queue'
            $worker = Get-DelayedWorker $low
            $worker.Queues | Should -Be @($high.Name, $low.Name)
            (Get-DelayedWorker $high).WorkerId | Should -Be $worker.WorkerId
            $worker | Stop-DelayedWorker
            # Through the second queue, heard by the next claim (within a dequeue timeout, 0.1 s): sooner than the
            # keep-alive refresh (every 15 s here), the backstop that would hear it if it reached the second queue only.
            $job | Wait-Job -Timeout 10 | Should -Not -BeNullOrEmpty
            $job.State | Should -Be 'Completed'
            Get-DelayedWorker $high | Should -BeNullOrEmpty
            Get-DelayedWorker $low | Should -BeNullOrEmpty
        } finally { $job | Remove-Job -Force }
    }

    It 'reports a worker id that is not a worker of this module' {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $failure = $null
        Stop-DelayedWorker $queue -WorkerId 12623 -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'WorkerNotFound*'
        $failure[0].ToString() | Should -BeLike '*Python and Go workers*'
    }
}

Describe 'Scheduled and failed tasks' {
    BeforeEach { $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.1' }

    It 'schedules with -Delay and -At, also by property name from the pipeline, lists them earliest first and cancels them' {
        Add-DelayedTask $queue later 1 -Delay (New-TimeSpan -Hours 2)
        [pscustomobject]@{ Name = 'sooner'; ArgumentList = @(2); At = [DateTime]::Now.AddHours(1) } | Add-DelayedTask $queue
        { Add-DelayedTask $queue both -Delay 00:01:00 -At ([DateTime]::Now) -ErrorAction Stop } | Should -Throw '*-Delay or -At, not both*'
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 0
        $scheduled = @(Get-DelayedTask $queue -Scheduled)
        $scheduled.Name | Should -Be @('sooner', 'later')
        $scheduled[0].DueAt | Should -BeGreaterThan ([DateTimeOffset]::Now.AddMinutes(55))
        (Get-DelayedQueue $queue).Scheduled | Should -Be 2
        Get-DelayedTask $queue -Scheduled | Where-Object Name -eq 'later' | Remove-DelayedTask -Confirm:$false
        (Get-DelayedTask $queue -Scheduled).Name | Should -Be 'sooner'
    }

    It 'says with -PassThru when a scheduled task is due and its entry, which Remove-DelayedTask takes from the pipeline to cancel it' {
        $at = [DateTimeOffset]::new([DateTime]::Now.AddDays(1).Date.AddHours(3))
        $sent = @(Add-DelayedTask $queue later 1 -Delay (New-TimeSpan -Hours 2) -PassThru; Add-DelayedTask $queue fixed 2 -At $at -PassThru; Add-DelayedTask $queue now 3 -PassThru)
        $scheduled = @(Get-DelayedTask $queue -Scheduled)
        $sent[0].ScheduleId | Should -Be ($scheduled | Where-Object Name -eq 'later').ScheduleId
        $sent[0].DueAt | Should -Be ($scheduled | Where-Object Name -eq 'later').DueAt
        $sent[0].DueAt | Should -BeGreaterThan ([DateTimeOffset]::Now.AddMinutes(115))
        $sent[1].DueAt | Should -Be $at
        $sent[2].ScheduleId, $sent[2].DueAt | Should -Be @($null, $null) -Because 'a task to run now has no schedule entry'
        ($sent | Format-Table | Out-String) | Should -Match 'Size\s+DueAt'
        $sent[0] | Remove-DelayedTask -Confirm:$false
        (Get-DelayedTask $queue -Scheduled).Name | Should -Be 'fixed'
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 1
    }

    It 'says with -PassThru when a unique scheduled task is due, and cancels it from the pipeline; a skipped duplicate has no entry' {
        $sent = @(1..2 | ForEach-Object { Add-DelayedTask $queue patch web01 -Delay (New-TimeSpan -Hours 1) -UniqueFor (New-TimeSpan -Hours 2) -PassThru })
        $sent.Duplicate | Should -Be @($false, $true)
        $scheduled = @(Get-DelayedTask $queue -Scheduled)
        $scheduled.Count | Should -Be 1
        $sent[0].ScheduleId | Should -Be $scheduled[0].ScheduleId
        $sent[0].DueAt | Should -Be $scheduled[0].DueAt
        $sent[0].DueAt | Should -BeGreaterThan ([DateTimeOffset]::Now.AddMinutes(55))
        $sent[1].ScheduleId, $sent[1].DueAt | Should -Be @($null, $null) -Because 'the duplicate was not scheduled'
        $sent[0] | Remove-DelayedTask -Confirm:$false
        @(Get-DelayedTask $queue -Scheduled).Count | Should -Be 0
    }

    It 'runs a task added with -Delay on a running worker once it is due' {
        $job = Start-DelayedWorker $queue -Handler @{ soon = { param($x) $x } } -AsJob
        try {
            Add-DelayedTask $queue soon 42 -Delay '00:00:01'
            (Get-DelayedTask $queue -Scheduled).Name | Should -Be 'soon'
            Wait-Until { (Get-DelayedQueue $queue).Scheduled -eq 0 -and (Get-DelayedQueue $queue).Length -eq 0 -and (Get-DelayedQueue $queue).InFlight -eq 0 } 'the delayed task to run' 20
        } finally { $job | Stop-Job -PassThru | Remove-Job -Force }
    }

    It 'lists failed tasks with their reason and error, restores them with a fresh budget, and clears the store' {
        1..3 | ForEach-Object { Add-DelayedTask $queue broken $_ }
        Add-DelayedTask $queue typed 'not a number'
        Start-DelayedWorker $queue -StopWhenEmpty -Handler @{ broken = { param($n) throw "disk $n full" }; typed = { param([int] $Count) } } -ErrorAction SilentlyContinue | Out-Null
        $failed = @(Get-DelayedTask $queue -Failed)
        $failed.Count | Should -Be 4
        $failed[0].PSObject.TypeNames[0] | Should -Be 'Delayed.FailedTask'
        $failed[0].Reason | Should -Be 'BadCall' -Because 'newest first'
        (Get-DelayedTask $queue -Failed -Reason Failed).Error | Should -Be @('disk 3 full', 'disk 2 full', 'disk 1 full')
        $failed[1].Host | Should -Be ([Environment]::MachineName)
        $failed[1].Attempts | Should -Be 1
        (Get-DelayedQueue $queue).Failed | Should -Be 4
        Get-DelayedTask $queue -Failed -Reason Failed | Restore-DelayedTask -Retry 2 -WhatIf
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 0
        $back = @(Get-DelayedTask $queue -Failed -Reason Failed | Restore-DelayedTask -Retry 2 -Confirm:$false -PassThru)
        $restored = @(Get-DelayedTask $queue)
        $restored.Retry | Should -Be @(2, 2, 2)
        # -PassThru: each as it now waits, where it was put.
        $back[0].PSObject.TypeNames[0] | Should -Be 'Delayed.QueuedTask'
        $back.Position | Should -Be @(0, 1, 2)
        $back.Arguments | Should -Be $restored.Arguments
        $back.Retry | Should -Be @(2, 2, 2)
        $redis.Db.ListLength($queue.TokenKey) | Should -Be 3
        $again = $null
        $failed[1] | Restore-DelayedTask -Confirm:$false -ErrorVariable again -ErrorAction SilentlyContinue
        $again[0].FullyQualifiedErrorId | Should -BeLike 'TaskNotFound*'
        Clear-DelayedQueue $queue -Failed -Confirm:$false
        @(Get-DelayedTask $queue -Failed).Count | Should -Be 0
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 3 -Because 'clearing the failed store leaves the queue alone'
    }

    It 'restores 10,000 failed tasks while workers run, losing and duplicating none' {
        $records = [StackExchange.Redis.HashEntry[]]::new(10000)
        $ids = [StackExchange.Redis.SortedSetEntry[]]::new(10000)
        $at = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()
        for ($i = 0; $i -lt 10000; $i++) {
            # A record as the worker writes it: [at, reason, error, worker, host, attempts, bytes].
            $task = [byte[]](0x92, 0xa3, 0x6d, 0x3a, 0x66, 0x91, 0xcd, [byte]($i -shr 8), [byte]($i -band 0xff))
            $record = [byte[]](0x97, 0xcf) + [BitConverter]::GetBytes([UInt64]$at)[7..0] + [byte[]](0xa6) + [Text.Encoding]::ASCII.GetBytes('Failed') + [byte[]](0xa0, 0xa0, 0xa0, 0x01, 0xd9, $task.Length) + $task
            $records[$i] = [StackExchange.Redis.HashEntry]::new("f$i", (ConvertTo-RedisValue $record))
            $ids[$i] = [StackExchange.Redis.SortedSetEntry]::new("f$i", $at)
        }
        $redis.Db.HashSet("$($queue.Name)_failed_data", $records)
        $redis.Db.SortedSetAdd("$($queue.Name)_failed", $ids, [StackExchange.Redis.CommandFlags]::None) | Out-Null
        $worker = Start-WorkerProcess $queue.Name "'m:f' = { param(`$i) }" '-Concurrency 2 -PassThru | ForEach-Object { [Console]::Out.WriteLine(''ran '' + $_.Status) }'
        Wait-Line $worker 'starting' | Out-Null
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Get-DelayedTask $queue -Failed | Restore-DelayedTask -Confirm:$false
        $elapsed = $clock.Elapsed
        Write-Host "Restored 10,000 failed tasks in $([int]$elapsed.TotalMilliseconds) ms"
        $ran = 0
        while ($ran -lt 10000) { Wait-Line $worker 'ran Succeeded' | Out-Null; $ran++ }
        Get-DelayedWorker $queue | Stop-DelayedWorker
        $worker.WaitForExit(20000) | Out-Null
        @(Get-DelayedTask $queue -Failed).Count | Should -Be 0
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 0
        $redis.Db.ListLength($queue.TokenKey) | Should -Be 0
    }
}
