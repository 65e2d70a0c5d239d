BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
    function Get-OnlyTaskHex($queue) { ConvertTo-Hex (Get-QueueBytes $redis $queue.TaskKey)[0] }
}
AfterAll { Stop-TestRedis $redis }

Describe 'Add-DelayedTask' {
    BeforeEach { $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration }

    Context 'bytes identical to those of the Python and Go enqueuers' {
        It 'P1: no arguments' {
            Add-DelayedTask $queue app.tasks:ping
            Get-OnlyTaskHex $queue | Should -Be '91 ae 61 70 70 2e 74 61 73 6b 73 3a 70 69 6e 67'
        }
        It 'P3: positional and named arguments' {
            Add-DelayedTask $queue app.tasks:add 1 -Parameter @{ b = 2 }
            Get-OnlyTaskHex $queue | Should -Be '93 ad 61 70 70 2e 74 61 73 6b 73 3a 61 64 64 91 01 81 a1 62 02'
        }
        It 'P4: named arguments only keep an empty positional array' {
            Add-DelayedTask $queue app.tasks:add -Parameter ([ordered]@{ a = 1; b = 2 })
            Get-OnlyTaskHex $queue | Should -Be '93 ad 61 70 70 2e 74 61 73 6b 73 3a 61 64 64 90 82 a1 61 01 a1 62 02'
        }
        It 'P6: unlimited retry' {
            Add-DelayedTask $queue app.tasks:flaky 7 -Retry -1
            Get-OnlyTaskHex $queue | Should -Be '94 af 61 70 70 2e 74 61 73 6b 73 3a 66 6c 61 6b 79 91 07 80 ff'
        }
        It 'P8: PowerShell values take the smallest forms' {
            Add-DelayedTask $queue m:f -ArgumentList @('s', 1.5, $null, $true, [byte[]]@(0), @(, 1), -1, 200, -200, 70000)
            Get-OnlyTaskHex $queue | Should -Be '92 a3 6d 3a 66 9a a1 73 cb 3f f8 00 00 00 00 00 00 c0 c3 c4 01 00 91 01 ff cc c8 d1 ff 38 ce 00 01 11 70'
        }
        It 'G1/GG1: a Go task with two arguments' {
            Add-DelayedTask $queue main.Add 1, 2 -Format Go
            Get-OnlyTaskHex $queue | Should -Be '92 a8 6d 61 69 6e 2e 41 64 64 c4 03 92 01 02'
        }
        It 'GG3: a Go task with one scalar argument' {
            Add-DelayedTask $queue main.Square 5 -Format Go
            Get-OnlyTaskHex $queue | Should -Be '92 ab 6d 61 69 6e 2e 53 71 75 61 72 65 c4 01 05'
        }
        It 'GG4: a Go task without arguments is never a bare string' {
            Add-DelayedTask $queue main.Ping -Format Go
            Get-OnlyTaskHex $queue | Should -Be '92 a9 6d 61 69 6e 2e 50 69 6e 67 c4 01 c0'
        }
        It 'GG6: a Go struct as the array of its fields' {
            Add-DelayedTask $queue main.F1 -ArgumentList (, @(1, 'test')) -Format Go
            Get-OnlyTaskHex $queue | Should -Be '92 a7 6d 61 69 6e 2e 46 31 c4 07 92 01 a4 74 65 73 74'
        }
        It 'GG9: a long path uses str8' {
            Add-DelayedTask $queue github.com/acme/jobs/tasks.SendEmail 'a@b.c' -Format Go
            Get-OnlyTaskHex $queue | Should -Be '92 d9 24 67 69 74 68 75 62 2e 63 6f 6d 2f 61 63 6d 65 2f 6a 6f 62 73 2f 74 61 73 6b 73 2e 53 65 6e 64 45 6d 61 69 6c c4 06 a5 61 40 62 2e 63'
        }
    }

    It 'adds one token per task' {
        1..3 | ForEach-Object { Add-DelayedTask $queue m:f $_ }
        $redis.Db.ListLength($queue.TokenKey) | Should -Be 3
        @($redis.Db.ListRange($queue.TokenKey) | ForEach-Object { [string]$_ }) | Should -Be @('1', '1', '1')
    }

    It 'binds Name, ArgumentList, Parameter and Retry from piped objects by property name' {
        [pscustomobject]@{ Name = 'm:f'; ArgumentList = @(7); Parameter = @{ k = 'v' }; Retry = 1 } | Add-DelayedTask $queue
        Get-OnlyTaskHex $queue | Should -Be '94 a3 6d 3a 66 91 07 81 a1 6b a1 76 01'
    }

    It 'sends a pipeline of 100,000 objects in batches, not one round trip each' {
        $before = $redis.Db.Execute('INFO', 'commandstats').ToString()
        $execBefore = if ($before -match 'cmdstat_exec:calls=(\d+)') { [int]$Matches[1] } else { 0 }
        $clock = [Diagnostics.Stopwatch]::StartNew()
        1..100000 | ForEach-Object { [pscustomobject]@{ Name = 'm:f'; ArgumentList = @($_) } } | Add-DelayedTask $queue
        $clock.Stop()
        $after = $redis.Db.Execute('INFO', 'commandstats').ToString()
        $execAfter = if ($after -match 'cmdstat_exec:calls=(\d+)') { [int]$Matches[1] } else { 0 }
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 100000
        $redis.Db.ListLength($queue.TokenKey) | Should -Be 100000
        ($execAfter - $execBefore) | Should -BeLessOrEqual 200
        ConvertTo-Hex ([byte[]]$redis.Db.ListGetByIndex($queue.TaskKey, 99999)) | Should -Be '92 a3 6d 3a 66 91 ce 00 01 86 a0'
    }

    It 'converts PowerShell values to plain data' {
        $when = [DateTime]::new(2026, 11, 28, 12, 0, 0, [DateTimeKind]::Utc)
        Add-DelayedTask $queue m:f -ArgumentList ([pscustomobject]@{ A = 1; B = 'x' }), ([ConsoleColor]::Red), ([guid]'00000000-0000-0000-0000-000000000001'), $when, 'c'[0]
        # map {A:1,B:"x"}, "Red", the guid's string, timestamp ext (d6 ff = 32-bit seconds), "c"
        Get-OnlyTaskHex $queue | Should -BeLike '92 a3 6d 3a 66 95 82 a1 41 01 a1 42 a1 78 a3 52 65 64 d9 24 30 30 30 30 * d6 ff 6b 0a c2 40 a1 63'
    }

    It 'refuses an object that is not plain data, naming its type and the way out, and enqueues nothing' {
        $errors = $null
        Add-DelayedTask $queue m:f -ArgumentList (Get-Process -Id $PID) -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be 1
        $errors[0].ToString() | Should -BeLike '*System.Diagnostics.Process*Select-Object*'
        Add-DelayedTask $queue m:f -ArgumentList { 'code' } -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].ToString() | Should -BeLike '*ScriptBlock*'
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 0
    }

    It 'goes on with the rest of a pipeline after a bad object' {
        @([pscustomobject]@{ Name = 'm:f'; ArgumentList = @(1) }, [pscustomobject]@{ Name = 'm:f'; ArgumentList = @({ 'x' }) }, [pscustomobject]@{ Name = 'm:f'; ArgumentList = @(3) }) |
            Add-DelayedTask $queue -ErrorAction SilentlyContinue
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 2
    }

    It 'never leaves a task without its token when the pipeline is stopped (Ctrl+C)' {
        $ps = [powershell]::Create()
        $null = $ps.AddScript("Import-Module '$env:DELAYED_MODULE'; `$q = New-DelayedQueue '$($queue.Name)' -Redis '$($redis.Configuration)'; 1..1000000 | ForEach-Object { [pscustomobject]@{ Name = 'm:f'; ArgumentList = @(`$_) } } | Add-DelayedTask `$q")
        $handle = $ps.BeginInvoke()
        Wait-Until { $redis.Db.ListLength($queue.TaskKey) -ge 5000 } 'the pipeline to enqueue 5,000 tasks'
        $ps.Stop()
        $ps.Dispose()
        $tasks = $redis.Db.ListLength($queue.TaskKey)
        $tasks | Should -BeGreaterThan 0
        $tasks | Should -BeLessThan 1000000
        $redis.Db.ListLength($queue.TokenKey) | Should -Be $tasks
    }

    It 'converts DateTimeOffset and decimal, and refuses non-string keys and self-references with a clear error' {
        Add-DelayedTask $queue m:f -ArgumentList @([DateTimeOffset]::new(2026, 11, 28, 13, 0, 0, [TimeSpan]::FromHours(1)), 2.5d)
        Get-OnlyTaskHex $queue | Should -Be '92 a3 6d 3a 66 92 d6 ff 6b 0a c2 40 cb 40 04 00 00 00 00 00 00'
        $errors = $null
        Add-DelayedTask $queue m:f -Parameter @{ 1 = 'x' } -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].ToString() | Should -BeLike '*key of type*Int32*string keys*'
        $loop = [pscustomobject]@{ Name = 'loop' }
        $loop | Add-Member -NotePropertyName Self -NotePropertyValue $loop
        Add-DelayedTask $queue m:f -ArgumentList (, $loop) -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].ToString() | Should -BeLike '*nested more than*refers to itself*'
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 1
    }

    It 'refuses -Parameter and -Retry with -Format Go' {
        { Add-DelayedTask $queue main.F 1 -Format Go -Retry 1 -ErrorAction Stop } | Should -Throw -ExpectedMessage '*Go-shaped*'
        { Add-DelayedTask $queue main.F 1 -Format Go -Parameter @{ a = 1 } -ErrorAction Stop } | Should -Throw -ExpectedMessage '*Go-shaped*'
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 0
    }

    It 'sends nothing with -WhatIf' {
        Add-DelayedTask $queue m:f 1 -WhatIf
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 0
    }

    It 'writes what it sent with -PassThru' {
        $sent = Add-DelayedTask $queue m:f 1 -PassThru
        $sent.PSObject.TypeNames[0] | Should -Be 'Delayed.EnqueuedTask'
        $sent.Name | Should -Be 'm:f'
        $sent.Format | Should -Be 'Python'
        $sent.Size | Should -Be 7
    }

    It 'skips a duplicate within -UniqueFor, by bytes or by -UniqueKey, and says so' {
        $sent = 1..3 | ForEach-Object { Add-DelayedTask $queue Restart-Site web01 -UniqueFor '00:10:00' -PassThru }
        $sent.Duplicate | Should -Be @($false, $true, $true)
        Add-DelayedTask $queue Restart-Site web02 -UniqueFor '00:10:00' -UniqueKey restart -Verbose 4>&1 | Out-Null
        $verbose = Add-DelayedTask $queue Restart-Site web03 -UniqueFor '00:10:00' -UniqueKey restart -Verbose 4>&1
        "$verbose" | Should -BeLike "*Task 'Restart-Site' was not enqueued*same uniqueness key*"
        (Get-DelayedQueue $queue).Length | Should -Be 2
        Add-DelayedTask $queue x -UniqueKey k -ErrorVariable problems -ErrorAction SilentlyContinue
        "$problems" | Should -BeLike '*-UniqueKey needs -UniqueFor*'
    }

    It 'takes a queue name for -Queue' {
        $env:DELAYED_REDIS = $redis.Configuration
        try { Add-DelayedTask $queue.Name m:f } finally { Remove-Item Env:DELAYED_REDIS }
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 1
    }

    It 'refuses a queue name that would share another queue''s keys, in every cmdlet that names a queue, and writes nothing' {
        $env:DELAYED_REDIS = $redis.Configuration
        try {
            $taken = "$($queue.Name)_noti"
            { Add-DelayedTask $taken m:f -ErrorAction Stop } | Should -Throw "*ends in '_noti'*would share keys*"
            { New-DelayedQueue "$($queue.Name)_processing" } | Should -Throw "*ends in '_processing'*"
            { Get-DelayedTask $taken -ErrorAction Stop } | Should -Throw "*would share keys*"
            { Start-DelayedWorker $taken -StopWhenEmpty -ErrorAction Stop } | Should -Throw "*would share keys*"
            { New-DelayedQueue '   ' } | Should -Throw '*not empty or blank*'
        } finally { Remove-Item Env:DELAYED_REDIS }
        $redis.Db.ListLength($queue.TokenKey) | Should -Be 0
    }

    Context 'when Redis does not answer' {
        It 'says which tasks are enqueued and which are not, when nothing was sent' {
            $own = Start-TestRedis
            try {
                $down = New-DelayedQueue (New-QueueName) -Redis "$($own.Configuration),asyncTimeout=1500,syncTimeout=1500"
                Add-DelayedTask $down Warm-Up
                $stopped = $false
                $error.Clear()
                { 1..1500 | ForEach-Object {
                        # Once a first batch is sent (1,000 tasks), the server goes.
                        if ($_ -eq 1200 -and -not $stopped) { Stop-LocalRedis $own.Server; $script:stopped = $true }
                        [pscustomobject]@{ Name = 'Patch-Server'; ArgumentList = @($_) }
                    } | Add-DelayedTask $down -ErrorAction Stop } | Should -Throw -ErrorId 'RedisUnavailableNotEnqueued,*'
                $message = $error[0].Exception.Message
                $pattern = '^Redis did not answer, and (?<failed>[\d,]+) tasks \(one transaction\) were not enqueued: nothing was sent\. The (?<sent>[\d,]+) tasks sent before them are enqueued\. Enqueue them again once the server is up'
                $message | Should -Match $pattern
                $null = $message -match $pattern # Should does not leave $Matches here
                [int]($Matches.failed -replace ',') + [int]($Matches.sent -replace ',') | Should -Be 1500
                [int]($Matches.sent -replace ',') | Should -BeGreaterOrEqual 1000

                { Add-DelayedTask $down Restart-Site web01 -ErrorAction Stop } | Should -Throw "Redis did not answer, and task 'Restart-Site' was not enqueued: nothing was sent.*"
            } finally { Stop-TestRedis $own }
        }

        It 'says that a task whose reply never came may or may not be enqueued' {
            $late = New-DelayedQueue (New-QueueName) -Redis "$($redis.Configuration),asyncTimeout=1000,syncTimeout=1000"
            Add-DelayedTask $late Warm-Up
            $redis.Db.Execute('CLIENT', [object[]]@('PAUSE', '4000', 'WRITE')) | Out-Null
            try {
                { Add-DelayedTask $late Restart-Site web01 -ErrorAction Stop } |
                    Should -Throw -ErrorId 'RedisUnavailableEnqueueInDoubt,*' -ExpectedMessage "Redis did not answer after task 'Restart-Site' was sent: it may or may not have been enqueued. Look before enqueueing it again*-UniqueFor*"
            } finally { $redis.Db.Execute('CLIENT', [object[]]@('UNPAUSE')) | Out-Null }
        }

        It 'says that a server refusing for a while (BUSY) enqueued nothing' {
            $own = Start-LocalRedis -Arguments '--busy-reply-threshold', '100'
            $busy = $null
            try {
                $refusing = New-DelayedQueue (New-QueueName) -Redis $own.Configuration
                Add-DelayedTask $refusing Warm-Up
                $busy = Start-Process redis-cli -ArgumentList '-p', $own.Port, 'EVAL', '"while true do end"', '0' -PassThru -RedirectStandardOutput (Join-Path $TestDrive 'busy.out')
                Wait-Until { (& redis-cli -p $own.Port PING) -like 'BUSY*' } 'the script to hold the server'
                $failures = @(
                    try { Add-DelayedTask $refusing Restart-Site web01 -ErrorAction Stop } catch { $_ }
                    try { Add-DelayedTask $refusing Restart-Site web02 -AsJob -ErrorAction Stop } catch { $_ }
                    try { Add-DelayedTask $refusing Restart-Site web03 -Delay '00:10:00' -ErrorAction Stop } catch { $_ }
                )
                foreach ($failure in $failures) {
                    $failure.FullyQualifiedErrorId | Should -BeLike 'RedisRefusedNotEnqueued,*' -Because $failure.Exception.Message
                    $failure.Exception.Message | Should -BeLike "Redis refused task 'Restart-Site' for now, and it was not enqueued: BUSY Redis is busy running a script*. Enqueue it again once Redis serves again*"
                }
                & redis-cli -p $own.Port SCRIPT KILL | Out-Null
                Wait-Until { (& redis-cli -p $own.Port PING) -eq 'PONG' } 'the server to serve again'
                & redis-cli -p $own.Port LLEN $refusing.Name | Should -Be 1 -Because 'only the warm-up task was enqueued'
                & redis-cli -p $own.Port EXISTS "$($refusing.Name)_scheduled" "$($refusing.Name)_tracked" | Should -Be 0
            } finally {
                if ($busy -and -not $busy.HasExited) { & redis-cli -p $own.Port SCRIPT KILL | Out-Null; $busy.Kill() }
                Get-Job | Remove-Job -Force
                Stop-LocalRedis $own
            }
        }

        It 'gives the id of a tracked task in doubt, which then says whether it was enqueued' {
            $late = New-DelayedQueue (New-QueueName) -Redis "$($redis.Configuration),asyncTimeout=1000,syncTimeout=1000"
            Add-DelayedTask $late Warm-Up -AsJob | Remove-Job -Force
            $redis.Db.Execute('CLIENT', [object[]]@('PAUSE', '3000', 'WRITE')) | Out-Null
            try {
                $failure = try { Add-DelayedTask $late Restart-Site web01 -AsJob -ErrorAction Stop } catch { $_ }
            } finally { $redis.Db.Execute('CLIENT', [object[]]@('UNPAUSE')) | Out-Null }
            $failure.FullyQualifiedErrorId | Should -BeLike 'RedisUnavailableEnqueueInDoubt,*'
            $id = @($failure.TargetObject)[0]
            $id | Should -Match '^[0-9a-f]{16}$'
            $failure.Exception.Message | Should -BeLike "*Tracked: Get-DelayedTask '$($late.Name)' -Id $id says whether it was.*"
            # The server held the script back and then ran it: the id finds the task, queued.
            Wait-Until { (Get-DelayedTask $late -Id $id -ErrorAction SilentlyContinue).State -eq 'Queued' } 'the id to find the task the server ran after all' 10
        }
    }
}
