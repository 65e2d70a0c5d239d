# Ctrl+C pressed for real in a terminal (tmux): a worker whose handlers run in runspaces says at once what it waits
# for, writes its summary, and a second Ctrl+C puts the running tasks back on the queue. PowerShell.Stop() cannot
# test this: it is the console host that passes the first Ctrl+C to the cmdlet and the next ones elsewhere.
BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
    $pwsh = @(Get-PwshCommand)
    $socket = "delayed-test-$([Guid]::NewGuid().ToString('N').Substring(0, 8))" # a tmux server of its own, with this environment

    # A terminal running a fresh pwsh on $Script (the module imported, $queue set), left open when the script ends.
    function Start-Terminal([string] $Script, $Queue) {
        $file = Join-Path ([IO.Path]::GetTempPath()) "delayed-console-$([Guid]::NewGuid().ToString('N')).ps1"
        Set-Content $file -Value @"
Import-Module '$env:DELAYED_MODULE'
`$queue = New-DelayedQueue '$($Queue.Name)' -Redis '$($redis.Configuration)' -DequeueTimeout '00:00:00.2'
$Script
"@
        $name = "t$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
        & tmux -L $socket new-session -d -s $name -x 250 -y 60 @pwsh -NoProfile -NoExit -File $file
        if ($LASTEXITCODE -ne 0) { throw "tmux could not start a session." }
        $name
    }
    function Get-Screen([string] $Session) { (& tmux -L $socket capture-pane -p -J -t $Session) -join "`n" }
    function Send-CtrlC([string] $Session) { & tmux -L $socket send-keys -t $Session C-c }
    function Wait-Screen([string] $Session, [string] $Like, [string] $What) {
        Wait-Until { (Get-Screen $Session) -like $Like } $What -Details { "The screen showed: $(Get-Screen $Session)" }
    }
    # The waiting tasks' bytes, in hex, sorted: to compare before and after.
    function Get-WaitingTasks($Queue) { @(foreach ($bytes in (Get-QueueBytes $redis $Queue.TaskKey)) { ConvertTo-Hex $bytes }) | Sort-Object }
    # Each handler leaves a marker as it starts: the worker counts a task as running (what its notice names) before it
    # calls the handler, so two markers mean it knows of both; the processing hash alone is written earlier, at the claim.
    $slow = "Start-DelayedWorker `$queue -Concurrency 2 -Handler @{ slow = { param(`$Release) New-Item -ItemType File `"`$Release-started-`$([Guid]::NewGuid())`" | Out-Null; while (-not (Test-Path `$Release)) { Start-Sleep -Milliseconds 50 } } }"
    function Wait-BothStarted([string] $Release) {
        Wait-Until { @(Get-ChildItem "$Release-started-*" -ErrorAction Ignore).Count -eq 2 } 'both handlers to start'
    }
}
AfterAll {
    & tmux -L $socket kill-server 2>$null
    Stop-TestRedis $redis
}

Describe 'Ctrl+C in a terminal' {
    BeforeEach {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $release = Join-Path ([IO.Path]::GetTempPath()) "delayed-release-$([Guid]::NewGuid().ToString('N'))"
        1..2 | ForEach-Object { Add-DelayedTask $queue slow $release }
        $before = Get-WaitingTasks $queue
    }
    AfterEach { Remove-Item $release, "$release-started-*" -ErrorAction Ignore }

    It 'says at once what it waits for, lets the tasks finish, and writes the summary' {
        $session = Start-Terminal $slow $queue
        Wait-BothStarted $release
        Send-CtrlC $session
        Wait-Screen $session "*is stopping: waiting for 2 running task(s) to finish: slow for * s, slow for * s. Press Ctrl+C again to stop them now*" 'the notice'
        $redis.Db.HashLength($queue.ProcessingKey) | Should -Be 2 -Because 'a graceful stop lets running tasks finish'
        New-Item $release -ItemType File | Out-Null
        Wait-Screen $session "*Worker on queue '$($queue.Name)' stopped after *: 2 processed, 2 succeeded, 0 failed*" 'the summary'
        (Get-DelayedQueue $queue).Length | Should -Be 0
    }

    It 'puts the running tasks back on the queue, unchanged, on a second Ctrl+C' {
        $session = Start-Terminal $slow $queue
        Wait-BothStarted $release
        Send-CtrlC $session
        Wait-Screen $session '*Press Ctrl+C again*' 'the notice'
        Send-CtrlC $session
        Wait-Screen $session "*stopped after *: 2 processed, 0 succeeded, 0 failed, 2 retried*" 'the summary'
        $redis.Db.HashLength($queue.ProcessingKey) | Should -Be 0
        $redis.Db.ListLength($queue.TokenKey) | Should -Be 2
        Get-WaitingTasks $queue | Should -Be $before
    }

    It 'has Stop-Job say what it waits for, and Ctrl+C put the running task back' {
        $session = Start-Terminal @"
`$job = Start-DelayedWorker `$queue -AsJob -Handler @{ slow = { param(`$Release) while (-not (Test-Path `$Release)) { Start-Sleep -Milliseconds 50 } } }
while ((Get-DelayedQueue `$queue).InFlight -lt 1) { Start-Sleep -Milliseconds 50 }
Stop-Job `$job
"@ $queue
        Wait-Screen $session '*is stopping: waiting for 1 running task(s) to finish: slow for * s. Press Ctrl+C to stop them now*' 'the notice'
        $redis.Db.HashLength($queue.ProcessingKey) | Should -Be 1 -Because 'Stop-Job waits for the running task'
        Send-CtrlC $session
        Wait-Until { $redis.Db.HashLength($queue.ProcessingKey) -eq 0 } 'the task to go back'
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 2
        Get-WaitingTasks $queue | Should -Be $before
    }
}
