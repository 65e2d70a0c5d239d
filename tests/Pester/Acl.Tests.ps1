# The least-privilege Redis accounts of examples/redis/delayed.acl (shipped as examples/delayed.acl) do what each role needs, and nothing they
# need is refused: Redis logs every refused command (ACL LOG), and each test asserts that log stays empty.
BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    # The copy that ships in the module's folder, which about_Delayed points to, loaded as Redis's ACL file, the way
    # its README says, with the passwords set.
    $aclFile = Join-Path (Split-Path $env:DELAYED_MODULE) 'examples/delayed.acl'
    $loaded = Join-Path ([IO.Path]::GetTempPath()) "delayed-$([Guid]::NewGuid().ToString('N')).acl"
    (Get-Content $aclFile -Raw) -replace '>change-me', '>s3cret' | Set-Content $loaded -NoNewline
    $redis = Start-TestRedis -Arguments '--aclfile', $loaded
    function Connect-As([string] $User, [string] $Name = '{jobs}') {
        New-DelayedQueue $Name -Redis "$($redis.Configuration),user=delayed-$User,password=s3cret" -DequeueTimeout '00:00:00.2'
    }
    # The refused commands since the last call, as "user: command (context)".
    function Get-Refusal {
        $log = $redis.Db.Execute('ACL', [object[]]@('LOG'))
        for ($k = 0; $k -lt $log.Length; $k++) {
            $entry = @{}
            for ($i = 0; $i -lt $log[$k].Length; $i += 2) { $entry["$($log[$k][$i])"] = "$($log[$k][$i + 1])" }
            "$($entry.username): $($entry.object) ($($entry.context))"
        }
        $redis.Db.Execute('ACL', [object[]]@('LOG', 'RESET')) | Out-Null
    }
    $admin = New-DelayedQueue '{jobs}' -Redis $redis.Configuration
}
AfterAll { Stop-TestRedis $redis; Remove-Item $loaded -ErrorAction Ignore }

Describe 'examples/redis/delayed.acl' {
    BeforeEach { Clear-DelayedQueue $admin -Confirm:$false -ErrorAction Ignore; Get-Refusal | Out-Null }

    It 'holds nothing but user lines, as an ACL file must' {
        Get-Content $aclFile | Where-Object { $_ } | ForEach-Object { $_ | Should -BeLike 'user *' }
    }

    It 'keeps each account to its own queue: another queue whose name starts the same is out of reach' {
        foreach ($role in 'enqueuer', 'worker', 'operator') {
            $other = Connect-As $role '{jobs}-prod'
            { Add-DelayedTask $other m:f -ErrorAction Stop } | Should -Throw
            @(Get-Refusal) -like "delayed-${role}: {jobs}-prod*" | Should -Not -BeNullOrEmpty -Because "$role must not reach {jobs}-prod"
        }
        $redis.Db.KeyExists('{jobs}-prod') | Should -BeFalse
    }

    It 'defines the four accounts' {
        $reply = $redis.Db.Execute('ACL', [object[]]@('USERS'))
        $users = for ($i = 0; $i -lt $reply.Length; $i++) { "$($reply[$i])" }
        foreach ($role in 'enqueuer', 'worker', 'sweeper', 'operator') { $users | Should -Contain "delayed-$role" }
    }

    It 'lets the enqueuer account enqueue, one by one and in batches, and nothing else' {
        $queue = Connect-As enqueuer
        Add-DelayedTask $queue m:f 1
        2..5 | ForEach-Object { [pscustomobject]@{ Name = 'm:f'; ArgumentList = @($_) } } | Add-DelayedTask $queue
        1..2 | ForEach-Object { Add-DelayedTask $queue m:unique -UniqueFor '00:01:00' }
        Get-Refusal | Should -BeNullOrEmpty
        $redis.Db.ListLength('{jobs}') | Should -Be 6
        $redis.Db.ListLength('{jobs}_noti') | Should -Be 6
        { Get-DelayedTask $queue -ErrorAction Stop } | Should -Throw '*NOPERM*'
        { Start-DelayedSweeper $queue -Once -ErrorAction Stop } | Should -Throw '*NOPERM*'
        @(Get-Refusal).Count | Should -BeGreaterThan 0
    }

    It 'lets the enqueuer account track its tasks: enqueue as jobs, follow them, find them by id and stop them; the worker account runs them' {
        $queue = Connect-As enqueuer
        $jobs = 1..2 | ForEach-Object { Add-DelayedTask $queue m:square $_ -AsJob }
        $later = Add-DelayedTask $queue m:square 3 -Delay '01:00:00' -AsJob
        (Get-DelayedTask $queue -Id $jobs[0].TrackingId).State | Should -Be Queued
        # A sweep looks through the waiting tasks' lines (HSCAN) and counts their copies in the list (LPOS).
        (Start-DelayedSweeper (Connect-As sweeper) -Once).TakenUntracked | Should -Be 0
        Stop-Job $later
        $later.State | Should -Be Stopped
        $worker = Start-DelayedWorker (Connect-As worker) -Handler @{ 'm:square' = { param($n) $n * $n } } -AsJob
        try {
            $jobs | Wait-Job -Timeout 30 | Receive-Job | Should -Be @(1, 4)
        } finally { $worker | Stop-Job -PassThru | Remove-Job -Force; $jobs, $later | Remove-Job -Force }
        Start-DelayedSweeper (Connect-As sweeper) -Once | Out-Null
        (Get-DelayedTask (Connect-As operator) -Id $jobs[1].TrackingId).State | Should -Be Completed
        Get-Refusal | Should -BeNullOrEmpty
    }

    It 'lets the worker account run, retry and wait for tasks, and the operator account inspect and stop it' {
        $enqueuer = Connect-As enqueuer
        Add-DelayedTask $enqueuer m:f 1
        Add-DelayedTask $enqueuer m:fail 2 -Retry 1
        $job = Start-DelayedWorker (Connect-As worker) -Handler @{ 'm:f' = { param($x) }; 'm:fail' = { throw 'no' }; 'm:slow' = { Start-Sleep -Milliseconds 500 } } -AsJob
        try {
            $operator = Connect-As operator
            Wait-Until { $redis.Db.ListLength('{jobs}') -eq 0 } 'the worker to drain the queue'
            Wait-Until { (Get-BlockedClients $redis) -ge 1 } 'the idle worker to wait in BLPOP'
            Add-DelayedTask $enqueuer m:slow
            Wait-Until { Get-DelayedProcessing $operator } 'the worker to take the new task'
            (Get-DelayedProcessing $operator).Name | Should -Be 'm:slow'
            (Get-DelayedQueue $operator).InFlight | Should -Be 1
            Get-DelayedWorker $operator | Stop-DelayedWorker
            $job | Wait-Job -Timeout 20 | Out-Null
            $job.State | Should -Be 'Completed'
        } finally { $job | Stop-Job -PassThru | Remove-Job -Force }
        Get-Refusal | Should -BeNullOrEmpty
        $redis.Db.HashLength('{jobs}_processing') | Should -Be 0
    }

    It 'lets the sweeper account recover the task of a dead worker and repair the tokens' {
        $redis.Db.HashSet('{jobs}_processing', '{jobs}0123456789abcdef0123456789abcdef', 'task bytes') | Out-Null
        $redis.Db.ListRightPush('{jobs}_noti', [StackExchange.Redis.RedisValue[]]@('1', '1', '1')) | Out-Null
        $result = Start-DelayedSweeper (Connect-As sweeper) -Once
        Get-Refusal | Should -BeNullOrEmpty
        $result.Recovered | Should -Be 1
        $redis.Db.ListLength('{jobs}_noti') | Should -Be 1
    }

    It 'sweeps as usual under a sweeper account of an older copy of the file (no HSCAN), and says what it needs' {
        $job = Add-DelayedTask (Connect-As enqueuer) m:f 1 -AsJob
        $redis.Db.HashSet('{jobs}_processing', '{jobs}0123456789abcdef0123456789abcdef', 'task bytes') | Out-Null
        $redis.Db.Execute('ACL', [object[]]@('SETUSER', 'delayed-sweeper', '-hscan')) | Out-Null
        try {
            $result = Start-DelayedSweeper (Connect-As sweeper) -Once -WarningVariable said -WarningAction SilentlyContinue
        } finally {
            $redis.Db.Execute('ACL', [object[]]@('SETUSER', 'delayed-sweeper', '+hscan')) | Out-Null
            $job | Remove-Job -Force
        }
        $result.Recovered | Should -Be 1
        $result.TokenAdjustment | Should -Be 1 -Because 'the token repair comes before the look that failed'
        "$said" | Should -BeLike "*swept as usual*HSCAN and LPOS*examples/delayed.acl*"
        @(Get-Refusal) -like 'delayed-sweeper: hscan*' | Should -Not -BeNullOrEmpty
    }

    It 'lets the operator account schedule and pause, the worker account fire and run schedules, and the sweeper account promote' {
        $operator = Connect-As operator
        Register-DelayedSchedule $operator -Name tick -Cron '* * * * * *' -TimeZone UTC -TaskName m:tick | Out-Null
        Suspend-DelayedQueue $operator -Reason acl
        (Get-DelayedQueue $operator).Paused | Should -BeTrue
        Start-DelayedSweeper (Connect-As sweeper) -Once | Out-Null
        Resume-DelayedQueue $operator
        (Start-DelayedWorker (Connect-As worker) -MaxTasks 1 -Handler @{ 'm:tick' = {} }).Succeeded | Should -Be 1
        (Get-DelayedSchedule $operator tick).RunCount | Should -BeGreaterOrEqual 1
        Get-DelayedSchedule $operator | Unregister-DelayedSchedule -Confirm:$false
        Get-Refusal | Should -BeNullOrEmpty
    }

    It 'lets the operator account peek, remove, restore and clear' {
        $operator = Connect-As operator
        Add-DelayedTask $operator m:f 1
        Add-DelayedTask $operator m:f 2
        Get-DelayedTask $operator -First 1 | Remove-DelayedTask -Confirm:$false
        $redis.Db.HashSet('{jobs}_processing', '{jobs}0123456789abcdef0123456789abcdef', 'task bytes') | Out-Null
        Get-DelayedProcessing $operator | Restore-DelayedTask -Confirm:$false
        $redis.Db.ListLength('{jobs}') | Should -Be 2
        Clear-DelayedQueue $operator -Confirm:$false
        Get-Refusal | Should -BeNullOrEmpty
        $redis.Db.ListLength('{jobs}') | Should -Be 0
    }
}
