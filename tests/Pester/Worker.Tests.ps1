BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
    function Invoke-Worker($queue, [hashtable] $handler, [switch] $PassThru) {
        # -RetryDelay 0: retries at once, as the Python worker does, so a drain with -StopWhenEmpty sees them.
        Start-DelayedWorker $queue -Handler $handler -StopWhenEmpty -RetryDelay 0 -PassThru:$PassThru -ErrorVariable +workerErrors -ErrorAction SilentlyContinue -WarningVariable +workerWarnings -WarningAction SilentlyContinue
    }
}
AfterAll { Stop-TestRedis $redis }

Describe 'Start-DelayedWorker' {
    BeforeEach {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.1'
        $global:seen = [System.Collections.Generic.List[object]]::new()
        $workerErrors = [System.Collections.ArrayList]::new()
        $workerWarnings = [System.Collections.ArrayList]::new()
        Get-DelayedHandler | ForEach-Object { Unregister-DelayedHandler $_.Name }
    }
    AfterEach {
        # Whatever happened, a worker that stopped holds nothing.
        $redis.Db.HashLength($queue.ProcessingKey) | Should -Be 0
    }

    It 'binds positional arguments by position and named ones by name, as splatting does' {
        Add-DelayedTask $queue Say 'hello', 3 -Parameter @{ Suffix = '!' }
        $summary = Invoke-Worker $queue @{ Say = { param($Text, $Times, $Suffix) $global:seen.Add($Text * $Times + $Suffix) } }
        $global:seen | Should -Be @('hellohellohello!')
        $summary.PSObject.TypeNames[0] | Should -Be 'Delayed.WorkerSummary'
        $summary.Succeeded | Should -Be 1
        $summary.Processed | Should -Be 1
    }

    It 'hands task data to handlers as PowerShell values' {
        # P8's values, and a map, a nested map and a timestamp.
        Push-RawTask $redis $queue.Name (ConvertFrom-Hex '92 a3 6d 3a 66 9a a1 73 cb 3f f8 00 00 00 00 00 00 c0 c3 c4 01 00 91 01 ff cc c8 d1 ff 38 ce 00 01 11 70')
        Add-DelayedTask $queue m:g -Parameter ([ordered]@{ Map = [ordered]@{ Zeta = 1; alpha = @{ x = 1 } }; When = [DateTime]::new(2026, 1, 2, 3, 4, 5, [DateTimeKind]::Utc); Big = [UInt64]::MaxValue })
        Invoke-Worker $queue @{
            'm:f' = { $global:seen.Add($args) }
            'm:g' = { param($Map, $When, $Big) $global:seen.Add(@($Map, $When, $Big)) }
        } | Out-Null
        $values = $global:seen[0]
        $values[0] | Should -BeOfType [string]
        $values[1] | Should -BeOfType [double]
        $values[2] | Should -BeNullOrEmpty
        $values[3] | Should -BeOfType [bool]
        , $values[4] | Should -BeOfType [byte[]]
        , $values[5] | Should -BeOfType [object[]]
        $values[6..9] | ForEach-Object { $_ | Should -BeOfType [long] }
        $map, $when, $big = $global:seen[1]
        $map | Should -BeOfType [System.Collections.Specialized.OrderedDictionary]
        @($map.Keys) | Should -Be @('Zeta', 'alpha')
        $map['zeta'] | Should -Be 1 -Because 'maps are case-insensitive'
        $map.alpha | Should -BeOfType [System.Collections.Specialized.OrderedDictionary]
        $when | Should -Be ([DateTime]::new(2026, 1, 2, 3, 4, 5, [DateTimeKind]::Utc))
        $when.Kind | Should -Be 'Utc'
        $big | Should -BeOfType [UInt64]
    }

    It 'gives a Go payload whole to a one-parameter handler and spreads an array over several' {
        Add-DelayedTask $queue main.One 1, 2 -Format Go
        Add-DelayedTask $queue main.Two 1, 2 -Format Go
        Add-DelayedTask $queue main.Scalar 5 -Format Go
        Push-RawTask $redis $queue.Name (ConvertFrom-Hex 'a9 6d 61 69 6e 2e 50 69 6e 67') # G3: bare string, no payload
        Invoke-Worker $queue @{
            'main.One'    = { param($Values) $global:seen.Add("one:$($Values -join '+')") }
            'main.Two'    = { param($A, $B) $global:seen.Add("two:$A,$B") }
            'main.Scalar' = { param($A, $B) $global:seen.Add("scalar:$A,$([bool]$B)") }
            'main.Ping'   = { $global:seen.Add("ping:$($args.Count)") }
        } | Out-Null
        $global:seen | Should -Be @('one:1+2', 'two:1,2', 'scalar:5,False', 'ping:0')
    }

    It 'calls a handler without parameters with no arguments for a Go task without arguments (a nil payload)' {
        function global:Invoke-NoArgs { [CmdletBinding()] param() $global:seen.Add("advanced:$($PSBoundParameters.Count)") }
        Add-DelayedTask $queue main.NoArgs -Format Go
        Add-DelayedTask $queue main.Advanced -Format Go
        Add-DelayedTask $queue main.Bare -Format Go
        (Get-DelayedTask $queue -First 1).Bytes | Should -Be (ConvertFrom-Hex '92 ab 6d 61 69 6e 2e 4e 6f 41 72 67 73 c4 01 c0')
        Invoke-Worker $queue @{
            'main.NoArgs'   = { param() $global:seen.Add("noargs:$($args.Count)") }
            'main.Advanced' = 'Invoke-NoArgs'
            'main.Bare'     = { $global:seen.Add("bare:$($args.Count)") }
        } | Out-Null
        $global:seen | Should -Be @('noargs:0', 'advanced:0', 'bare:0')
    }

    It 'runs tasks whose bytes are the protocol examples' {
        foreach ($hex in @(
                '91 ae 61 70 70 2e 74 61 73 6b 73 3a 70 69 6e 67'                        # P1
                '92 ad 61 70 70 2e 74 61 73 6b 73 3a 61 64 64 92 01 02'                  # P2
                '93 ad 61 70 70 2e 74 61 73 6b 73 3a 61 64 64 92 01 02 c0'               # GP1
                '92 a8 6d 61 69 6e 2e 41 64 64 c4 03 92 01 02')) {                       # G1
            Push-RawTask $redis $queue.Name (ConvertFrom-Hex $hex)
        }
        Invoke-Worker $queue @{
            'app.tasks:ping' = { $global:seen.Add('ping') }
            'app.tasks:add'  = { param($a, $b) $global:seen.Add($a + $b) }
            'main.Add'       = { param($a, $b) $global:seen.Add($a * 10 + $b) }
        } | Out-Null
        $global:seen | Should -Be @('ping', 3, 3, 12)
    }

    It 'puts a task it has no handler for back for a worker that has one, warns once per name, and goes on' {
        Add-DelayedTask $queue 'os:system' 'rm -rf /'
        Add-DelayedTask $queue 'os:system' 'rm -rf ~'
        Add-DelayedTask $queue known
        $summary = Invoke-Worker $queue @{ known = { $global:seen.Add('ran') } }
        $global:seen | Should -Be @('ran')
        $summary.Returned | Should -Be 2
        $workerErrors.Count | Should -Be 0
        @($workerWarnings | Where-Object { "$_" -like "*'os:system'*" }).Count | Should -Be 1
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 0
        $scheduled = @(Get-DelayedTask $queue -Scheduled)
        $scheduled.Name | Should -Be @('os:system', 'os:system')
        $scheduled[0].DueAt | Should -BeOfType [DateTimeOffset]
    }

    It 'fails bytes that are not a task into the failed store, with an error, and goes on' {
        Push-RawTask $redis $queue.Name ([byte[]](0xc1, 0x01))
        Add-DelayedTask $queue known
        $summary = Invoke-Worker $queue @{ known = { $global:seen.Add('ran') } }
        $summary.Failed | Should -Be 1
        $summary.Succeeded | Should -Be 1
        $workerErrors[0].FullyQualifiedErrorId | Should -BeLike 'MalformedTask*'
        $failed = @(Get-DelayedTask $queue -Failed)
        $failed.Reason | Should -Be 'Malformed'
        $failed[0].Bytes | Should -Be ([byte[]](0xc1, 0x01))
    }

    It 'treats arguments that cannot be bound as a bad call that is never retried' {
        Add-DelayedTask $queue strict -Retry 3                                       # missing mandatory parameter
        Add-DelayedTask $queue strict 1 -Parameter @{ Nope = 1 } -Retry 3             # unknown named parameter
        Add-DelayedTask $queue typed 'not a number' -Retry 3                          # cannot convert
        $summary = Invoke-Worker $queue @{
            strict = { param([Parameter(Mandatory)] $Value) $global:seen.Add($Value) }
            typed  = { param([int] $Count) $global:seen.Add($Count) }
        }
        $global:seen.Count | Should -Be 0
        $summary.Failed | Should -Be 3
        $summary.Retried | Should -Be 0
        @($workerErrors | Where-Object { $_.FullyQualifiedErrorId -like 'TaskBindingFailed*' }).Count | Should -Be 3
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 0
    }

    It 'treats a binding error inside the handler as a failure of the handler, which is retried' {
        Add-DelayedTask $queue inner -Retry 1
        $summary = Invoke-Worker $queue @{ inner = { $global:seen.Add('ran'); Get-Item -NoSuchParameter 1 } }
        $global:seen | Should -Be @('ran', 'ran')
        $summary.Retried, $summary.Failed | Should -Be @(1, 1)
    }

    It 'retries a failing handler while the retry budget lasts' {
        Add-DelayedTask $queue flaky 7 -Retry 2
        $summary = Invoke-Worker $queue @{ flaky = { param($n) $global:seen.Add($n); throw 'boom' } }
        $global:seen | Should -Be @(7, 7, 7)
        $summary.Retried | Should -Be 2
        $summary.Failed | Should -Be 1
        $workerErrors[-1].ToString() | Should -BeLike "Task 'flaky' failed (attempt 3): boom. It is kept in the failed store: *"
    }

    It 'says once that Redis does not answer, however often its loops fail meanwhile, and when it answers again' {
        $slow = New-DelayedQueue $queue.Name -Redis "$($redis.Configuration),asyncTimeout=1000,syncTimeout=1000" -DequeueTimeout '00:00:00.2' -KeepAliveTimeout '00:00:02'
        $job = Start-DelayedWorker $slow -Handler @{ t = {} } -AsJob
        try {
            Wait-Until { @(Get-DelayedWorker $slow).Count -eq 1 } 'the worker to register'
            $streams = { param($name) @($job.$name) + @($job.ChildJobs | ForEach-Object { $_.$name }) }
            # Every client waits 5 s: the keep-alive refreshes (every 0.5 s, then every second) and the promotions time out after 1 s.
            $redis.Db.Execute('CLIENT', [object[]]@('PAUSE', '5000', 'ALL')) | Out-Null
            Wait-Until { (& $streams Information | ForEach-Object { "$_" }) -like '*answers worker * again, after *' } 'the worker to say that Redis answers again' 30
            $said = @(& $streams Warning | Where-Object Message -like 'Redis *does not answer*')
            $said.Count | Should -Be 1 -Because "one outage is one warning ($(($said.Message) -join ' | '))"
            $said[0].Message | Should -BeLike 'Redis does not answer worker *: *. It retries with back-off, and says when Redis answers again.*'
        } finally { $job | Stop-Job; $job | Remove-Job -Force }
    }

    It 'waits out a server that refuses to serve for now (a script running past its time: BUSY) as an outage: one warning, then when it serves again' {
        $own = Start-LocalRedis -Arguments '--busy-reply-threshold', '100'
        $busy = $null
        try {
            $refusing = New-DelayedQueue busy -Redis $own.Configuration -DequeueTimeout '00:00:00.2' -KeepAliveTimeout '00:00:02'
            $job = Start-DelayedWorker $refusing -Handler @{ x = {} } -AsJob
            Add-DelayedTask $refusing x
            Wait-Until { @($job.Output | Where-Object Status -eq Succeeded).Count -eq 1 } 'the worker to run a task' 30 { "state $($job.State): $($job.JobStateInfo.Reason)" }
            # A script that runs until killed: past 100 ms, Redis answers every other command BUSY.
            $busy = Start-Process redis-cli -ArgumentList '-p', $own.Port, 'EVAL', '"while true do end"', '0' -PassThru -RedirectStandardOutput (Join-Path $TestDrive 'busy.out')
            Wait-Until { @($job.Verbose | Where-Object { "$_" -like 'Redis does not answer worker *BUSY*' }).Count -ge 3 } 'three refused calls of the worker' 30 { "verbose: $(@($job.Verbose).Count); warnings: $($job.Warning -join ' | ')" }
            & redis-cli -p $own.Port SCRIPT KILL | Out-Null
            Wait-Until { (@($job.Information) | ForEach-Object { "$_" }) -like '*answers worker * again, after *' } 'the worker to say that Redis serves it again' 30
            $said = @($job.Warning | Where-Object Message -like 'Redis *does not answer*')
            $said.Count | Should -Be 1 -Because "one refusal that lasts is one warning ($(($said.Message) -join ' | '))"
            $said[0].Message | Should -BeLike 'Redis does not answer worker *: BUSY Redis is busy running a script*. It retries with back-off*'
            @($job.Warning | Where-Object Message -like 'Redis error*').Count | Should -Be 0 -Because 'each refusal is a verbose message only'
        } finally {
            if ($job) { $job | Stop-Job; $job | Remove-Job -Force }
            if ($busy -and -not $busy.HasExited) { $busy.Kill() }
            Stop-LocalRedis $own
        }
    }

    It 'waits out a full Redis (OOM) that refuses to keep a failure as an outage: one warning, then the failure is kept once there is room' {
        $full = Start-LocalRedis -Arguments '--maxmemory', '2mb'
        $go = Join-Path $TestDrive 'go'
        $started = Join-Path $TestDrive 'started'
        try {
            $queue = New-DelayedQueue full -Redis $full.Configuration -DequeueTimeout '00:00:00.2'
            $job = Start-DelayedWorker $queue -AsJob -Handler @{ fail = { param($Started, $Go)
                    Set-Content $Started 1
                    while (-not (Test-Path $Go)) { Start-Sleep -Milliseconds 20 }
                    throw 'disk full on web01' } }
            Add-DelayedTask $queue fail -ArgumentList $started, $go
            Wait-Until { Test-Path $started } 'the handler to start'
            # A script that has written once writes on past the limit: Redis is then full, and refuses to keep the failure.
            & redis-cli -p $full.Port EVAL "for i = 1, 30000 do redis.call('SET', 'fill' .. i, string.rep('x', 100)) end" 0 | Out-Null
            Set-Content $go 1
            Wait-Until { @($job.Verbose | Where-Object { "$_" -like 'Redis is full and refuses worker *: OOM command not allowed*' }).Count -ge 2 } 'two refused calls of the worker' 30 { "verbose: $(@($job.Verbose).Count); warnings: $($job.Warning -join ' | ')" }
            & redis-cli -p $full.Port CONFIG SET maxmemory 0 | Out-Null
            Wait-Until { (@($job.Information) | ForEach-Object { "$_" }) -like '*answers worker * again, after *' } 'the worker to say that Redis takes it again' 30
            Wait-Until { (Get-DelayedQueue $queue).Failed -eq 1 } 'the failure to be kept'
            $said = @($job.Warning | Where-Object Message -like 'Redis is full*')
            $said.Count | Should -Be 1 -Because "one refusal that lasts is one warning ($(($said.Message) -join ' | '))"
            $said[0].Message | Should -BeLike "Redis is full and refuses worker *: OOM command not allowed when used memory > 'maxmemory'. It retries with back-off, and says when Redis takes it again: make room, or raise maxmemory. (Details with -Verbose.)"
            @($job.Warning | Where-Object Message -like 'Redis error*').Count | Should -Be 0 -Because 'each refusal is a verbose message only'
            (Get-DelayedQueue $queue).InFlight | Should -Be 0
        } finally {
            if ($job) { $job | Stop-Job; $job | Remove-Job -Force }
            Stop-LocalRedis $full
        }
    }

    It 'runs the due tasks of its other queues while one queue''s schedule cannot be read, and warns of that queue once, not every second' {
        $broken = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.2'
        $fine = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.2'
        $redis.Db.StringSet("$($broken.Name)_scheduled", 'not a sorted set') | Out-Null # every move of its due tasks fails (WRONGTYPE)
        Add-DelayedTask $fine m:f -Delay '00:00:00.5'
        $job = Start-DelayedWorker $broken, $fine -Handler @{ 'm:f' = {} } -AsJob
        try {
            Wait-Until { @($job.Output | Where-Object Status -eq Succeeded).Count -eq 1 } 'the fine queue''s scheduled task to run' 30 { "warnings: $($job.Warning -join ' | ')" }
            $failed = "Redis error on worker * while moving due scheduled tasks to queue '$($broken.Name)': WRONGTYPE*"
            # The premise: the move was tried (and failed) again and again meanwhile; each failure is a warning or a verbose line.
            Wait-Until { @(@($job.Verbose) + @($job.Warning) | Where-Object { "$_" -like $failed }).Count -ge 3 } 'three failed moves' 30
            $said = @($job.Warning | Where-Object Message -like $failed)
            $said.Count | Should -Be 1 -Because "one failure that lasts is one warning ($(@($job.Warning.Message) -join ' | '))"
        } finally { $job | Stop-Job; $job | Remove-Job -Force }
    }

    It 'tells a handler which task, worker and attempt it runs in $DelayedTask' {
        Add-DelayedTask $queue flaky 7 -Retry 2
        $summary = Invoke-Worker $queue @{ flaky = { param($n) $global:seen.Add("$($DelayedTask.Name) $($DelayedTask.Attempt) $($DelayedTask.Retry)"); if ($DelayedTask.Attempt -lt 2) { throw 'once' } } }
        $global:seen | Should -Be @('flaky 1 2', 'flaky 2 1')
        $summary.Succeeded | Should -Be 1
    }

    It 'fails a handler that calls exit with an error that says so, not "System error."' {
        Add-DelayedTask $queue quits
        $summary = Invoke-Worker $queue @{ quits = { exit 3 } }
        $summary.Failed | Should -Be 1
        "$($workerErrors[0])" | Should -BeLike "*called 'exit 3'*return*throw*"
    }

    It 'fails a handler that uses break or continue outside a loop with an error that says so, and goes on with the next task' {
        Add-DelayedTask $queue breaks
        Add-DelayedTask $queue continues
        Add-DelayedTask $queue fine
        $summary = Invoke-Worker $queue @{ breaks = { break }; continues = { continue }; fine = { $global:seen.Add('fine ran') } }
        $summary.Failed | Should -Be 2
        $summary.Succeeded | Should -Be 1
        $global:seen | Should -Be @('fine ran')
        "$($workerErrors[0])" | Should -BeLike "*used 'break' outside a loop*return*throw*"
        "$($workerErrors[1])" | Should -BeLike "*used 'continue' outside a loop*"
    }

    It 'runs handlers with $ErrorActionPreference = Stop: a non-terminating error fails the task' {
        Add-DelayedTask $queue sloppy
        $summary = Invoke-Worker $queue @{ sloppy = { Write-Error 'not found'; $global:seen.Add('went on') } }
        $global:seen.Count | Should -Be 0
        $summary.Failed | Should -Be 1
    }

    It 'passes task data as data: strings are never evaluated' {
        Add-DelayedTask $queue echo '$(Set-Content -Path evaluated.txt -Value 1)'
        Invoke-Worker $queue @{ echo = { param($Text) $global:seen.Add($Text) } } | Out-Null
        $global:seen | Should -Be @('$(Set-Content -Path evaluated.txt -Value 1)')
        Test-Path evaluated.txt | Should -BeFalse
    }

    It 'dispatches to registered scriptblock and command handlers' {
        function global:Invoke-Double { param([int] $N) $global:seen.Add($N * 2) }
        Register-DelayedHandler -Command Invoke-Double
        Register-DelayedHandler -Name triple -ScriptBlock { param($N) $global:seen.Add($N * 3) }
        Add-DelayedTask $queue Invoke-Double 5
        Add-DelayedTask $queue triple 5
        $queue | Start-DelayedWorker -StopWhenEmpty | Out-Null
        $global:seen | Should -Be @(10, 15)
    }

    It 'stops after -MaxTasks and leaves the rest queued with their tokens' {
        1..5 | ForEach-Object { Add-DelayedTask $queue n $_ }
        $summary = Start-DelayedWorker $queue -Handler @{ n = { param($i) $global:seen.Add($i) } } -MaxTasks 2
        $global:seen | Should -Be @(1, 2)
        $summary.Processed | Should -Be 2
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 3
        $redis.Db.ListLength($queue.TokenKey) | Should -Be 3
    }

    It 'writes one record per task with -PassThru, naming the task''s arguments so that a log says which server failed' {
        Add-DelayedTask $queue ok
        Add-DelayedTask $queue bad -ArgumentList 'web7' -Parameter @{ Port = 8443 }
        $records = @(Invoke-Worker $queue @{ ok = {}; bad = { param($Server, $Port) throw 'x' } } -PassThru | Where-Object { $_ -is [Delayed.TaskResult] })
        $records.Count | Should -Be 2
        $records[0].Status | Should -Be 'Succeeded'
        $records[1].Status | Should -Be 'Failed'
        $records[1].Error | Should -Be 'x'
        $records[1].Attempt | Should -Be 1
        $records[1].ArgumentList | Should -Be @('web7')
        $records[1].Parameter['Port'] | Should -Be 8443
        $records[1].Arguments | Should -Be 'web7, Port=8443'
        $records[0].WorkerId | Should -Match '^[0-9a-f]{32}$'
        ($records[1] | Format-Table | Out-String) | Should -Match 'bad\s+web7, Port=8443\s+Failed'
    }

    It 'tells each task''s start and success with -Verbose' {
        Add-DelayedTask $queue ok
        $messages = Start-DelayedWorker $queue -Handler @{ ok = {} } -StopWhenEmpty -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        ($messages.Message -join "`n") | Should -Match "Started task 'ok'"
        ($messages.Message -join "`n") | Should -Match "Task 'ok' succeeded"
    }

    It 'warns when it has no handler at all' {
        $warnings = $null
        Start-DelayedWorker $queue -StopWhenEmpty -WarningVariable warnings -WarningAction SilentlyContinue | Out-Null
        $warnings[0] | Should -BeLike '*No handler*'
    }

    It 'warns at its start when Redis would delete keys once full (maxmemory-policy other than noeviction), and not otherwise' {
        $evicting = Start-LocalRedis -Arguments '--maxmemory', '100mb', '--maxmemory-policy', 'allkeys-lru'
        try {
            $onEvicting = New-DelayedQueue (New-QueueName) -Redis $evicting.Configuration
            Add-DelayedTask $onEvicting m:f
            Start-DelayedWorker $onEvicting -MaxTasks 1 -Handler @{ 'm:f' = {} } -WarningVariable warned -WarningAction SilentlyContinue | Out-Null
            @($warned).Count | Should -Be 1
            "$warned" | Should -BeLike "Redis at $($evicting.Configuration) evicts keys when full (maxmemory-policy allkeys-lru): it would then delete queued tasks*Set maxmemory-policy noeviction*"
        } finally { Stop-LocalRedis $evicting }
        $redis.Db.Execute('CONFIG', [object[]]@('SET', 'maxmemory', '100mb')) | Out-Null # noeviction, the default
        try {
            Add-DelayedTask $queue m:f
            Start-DelayedWorker $queue -MaxTasks 1 -Handler @{ 'm:f' = {} } -WarningVariable quiet | Out-Null
            @($quiet).Count | Should -Be 0
        } finally { $redis.Db.Execute('CONFIG', [object[]]@('SET', 'maxmemory', '0')) | Out-Null }
    }

    It 'warns when its liveness key had vanished, and writes it again before taking a task' {
        $job = Start-DelayedWorker $queue -Handler @{ 'm:f' = { } } -AsJob
        try {
            Wait-Until { Get-DelayedWorker $queue } 'the worker to register'
            $id = (Get-DelayedWorker $queue).WorkerId
            $redis.Db.KeyDelete($id) | Should -BeTrue # as if it had expired while the process was paused
            Add-DelayedTask $queue m:f
            Wait-Until { $redis.Db.ListLength($queue.TaskKey) -eq 0 } 'the worker to take the task'
            $redis.Db.KeyExists($id) | Should -BeTrue
        } finally { $job | Stop-Job }
        $warnings = $null
        Receive-Job $job -WarningVariable warnings -WarningAction SilentlyContinue | Out-Null
        Remove-Job $job
        $warnings | Should -HaveCount 1
        "$($warnings[0])" | Should -BeLike "Worker $id`: The liveness key of worker $id had lapsed*registered again under the same id."
    }

    It 'says in one short line that Redis is down and that it retries, with the client''s detail only with -Verbose' {
        $own = Start-LocalRedis
        $down = New-DelayedQueue down -Redis "$($own.Configuration),connectTimeout=500,syncTimeout=1000,asyncTimeout=1000" -DequeueTimeout '00:00:00.2'
        $job = Start-DelayedWorker $down -Handler @{ x = {} } -AsJob
        try {
            # Started for good once it ran a task: a worker that cannot start (register, connect) fails at once, by design.
            Add-DelayedTask $down x
            Wait-Until { @($job.Output | Where-Object Status -eq Succeeded).Count -eq 1 } 'the worker to run a task' 30 { "state $($job.State): $($job.JobStateInfo.Reason)" }
            Stop-LocalRedis $own
            Wait-Until { @($job.Warning | Where-Object { "$_" -like 'Redis does not answer*' }).Count -gt 0 } 'a warning that Redis is down' 30 { "warnings: $($job.Warning -join ' | '); state $($job.State): $($job.JobStateInfo.Reason)" }
            $warning = "$(@($job.Warning | Where-Object { "$_" -like 'Redis does not answer*' })[0])"
            $warning | Should -BeLike '*retries with back-off*(Details with -Verbose.)'
            $warning.Length | Should -BeLessThan 300
            $warning | Should -Not -Match 'mgr: |IOCP|WORKER: '
            # Each failure, with the client's whole report, in the verbose stream.
            Wait-Until { @($job.Verbose | Where-Object { "$_" -like 'Redis does not answer worker *mgr: *' }).Count -gt 0 } 'the failure in the verbose stream' 30
        } finally { $job | Stop-Job -PassThru | Remove-Job -Force }
    }

    It 'takes nothing with -WhatIf' {
        Add-DelayedTask $queue m:f 1
        Start-DelayedWorker $queue -Handler @{ 'm:f' = { $global:seen.Add(1) } } -Concurrency 2 -StopWhenEmpty -WhatIf | Should -BeNullOrEmpty
        $global:seen.Count | Should -Be 0
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 1
        $redis.Db.HashLength("$($queue.Name)_workers") | Should -Be 0 # no worker registered
    }

    It 'refuses a -Handler value that is not a scriptblock or command name' {
        { Start-DelayedWorker $queue -Handler @{ x = 42 } -StopWhenEmpty -ErrorAction Stop } | Should -Throw -ExpectedMessage '*scriptblocks or command names*'
    }
}
