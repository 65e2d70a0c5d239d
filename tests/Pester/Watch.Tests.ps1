# Watch-DelayedQueue in a real terminal (tmux, 80 columns): the screen it draws, its refresh, and Ctrl+C leaving the
# terminal as it was; and as lines where its output is redirected. Also the dashboard in the foreground, stopped by Ctrl+C.
BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
    $pwsh = @(Get-PwshCommand)
    $socket = "delayed-watch-$([Guid]::NewGuid().ToString('N').Substring(0, 8))" # a tmux server of its own

    function Start-Terminal([string] $Script) {
        $file = Join-Path ([IO.Path]::GetTempPath()) "delayed-watch-$([Guid]::NewGuid().ToString('N')).ps1"
        Set-Content $file -Value "`$env:DELAYED_REDIS = '$($redis.Configuration)'`nImport-Module '$env:DELAYED_MODULE'`n$Script"
        $name = "w$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
        & tmux -L $socket new-session -d -s $name -x 80 -y 24 @pwsh -NoProfile -NoExit -File $file
        if ($LASTEXITCODE -ne 0) { throw "tmux could not start a session." }
        $name
    }
    function Get-Screen([string] $Session) { & tmux -L $socket capture-pane -p -t $Session }
    function Get-Pane([string] $Session, [string] $Format) { (& tmux -L $socket display -p -t $Session $Format) -join '' }

    # One queue with waiting, scheduled and failed tasks and a task stuck under a gone worker; one paused and empty.
    $busy = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.1'
    $paused = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
    Add-DelayedTask $busy 'Fail-It' '<b>x</b>'
    Start-DelayedWorker $busy -Handler @{ 'Fail-It' = { param($x) throw "no pool named $x" } } -StopWhenEmpty -ErrorAction Ignore | Out-Null
    1..3 | ForEach-Object { Add-DelayedTask $busy 'Restart-Site' "web0$_" }
    Add-DelayedTask $busy 'Later' -Delay (New-TimeSpan -Hours 1)
    $gone = '0123456789abcdef0123456789abcdef'
    $redis.Db.HashSet($busy.ProcessingKey, $gone, (ConvertTo-RedisValue ([byte[]](0x93, 0xac) + [Text.Encoding]::UTF8.GetBytes('Patch-Server') + [byte[]](0x90, 0x80))))
    $redis.Db.HashSet("$($busy.Name)_inflight", $gone, "7:$([DateTimeOffset]::UtcNow.AddMinutes(-3).ToUnixTimeMilliseconds())")
    Suspend-DelayedQueue $paused -Reason 'maintenance'
}
AfterAll {
    & tmux -L $socket kill-server 2>$null
    Stop-TestRedis $redis
}

Describe 'Watch-DelayedQueue' {
    It 'draws the queues, the stuck task and the newest failure within 80 columns, and Ctrl+C gives the terminal back as it was' {
        $session = Start-Terminal "Write-Output 'before-the-watch'; Watch-DelayedQueue '$($busy.Name)', '$($paused.Name)' -Interval '00:00:00.2'"
        Wait-Until { (Get-Screen $session) -match 'NEWEST FAILURES' } 'the screen' -Details { "It showed: $(Get-Screen $session)" }
        $screen = Get-Screen $session
        Get-Pane $session '#{alternate_on}' | Should -Be '1' -Because 'the view is drawn on the alternate screen'
        Get-Pane $session '#{cursor_flag}' | Should -Be '0' -Because 'the cursor is hidden while drawing'
        foreach ($line in $screen) { $line.TrimEnd().Length | Should -BeLessOrEqual 80 }
        $busyLine = $screen | Where-Object { $_ -like "$($busy.Name) *" }
        # QUEUE WAITING SCHED FLIGHT STUCK FAILED WORKERS RATE/S OLDEST
        ($busyLine -split '\s+')[1..5] | Should -Be @('3', '1', '1', '1', '1')
        $screen | Where-Object { $_ -like "$($paused.Name) *" } | Should -Match 'paused\s*$'
        $screen | Where-Object { $_ -like '*Patch-Server*' } | Should -Match "$gone".Substring(0, 9)
        $screen | Where-Object { $_ -like '*Patch-Server*' } | Should -Match '3m0\ds\s+stuck'
        $screen | Where-Object { $_ -like '*Fail-It*' } | Should -Match 'Failed\s+no pool named <b>x</b>'

        # It refreshes: a task added now shows at the next refresh.
        Add-DelayedTask $busy 'Restart-Site' web09
        Wait-Until { ((Get-Screen $session | Where-Object { $_ -like "$($busy.Name) *" }) -split '\s+')[1] -eq '4' } 'the new length on the screen'

        & tmux -L $socket send-keys -t $session C-c
        Wait-Until { (Get-Pane $session '#{alternate_on}') -eq '0' } 'the main screen back'
        Wait-Until { (Get-Pane $session '#{cursor_flag}') -eq '1' } 'the cursor shown again'
        Wait-Until { (Get-Screen $session) -match '^PS .*> ?$' } 'the prompt' -Details { "The screen showed: $(Get-Screen $session)" }
        (Get-Screen $session) -join "`n" | Should -Match 'before-the-watch' -Because 'what was on the terminal before is there again'
        (Get-Screen $session) -join "`n" | Should -Not -Match 'QUEUE\s+WAITING'
    }

    It 'writes one line per refresh when its output is redirected, with no control sequences' {
        $process = Start-PwshProcess -Environment @{ DELAYED_REDIS = $redis.Configuration } -Script "Watch-DelayedQueue '$($busy.Name)', '$($paused.Name)' -Interval '00:00:00.1' -MaxSamples 3"
        $output = $process.StandardOutput.ReadToEnd()
        $process.WaitForExit()
        $lines = @($output -split "`r?`n" | Where-Object { $_ })
        $lines.Count | Should -Be 3 -Because $process.StandardError.ReadToEnd()
        $lines[0] | Should -Match "^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d $($busy.Name): \d+ waiting, 1 scheduled, 1 running \(1 stuck\), 1 failed, 0 workers, [0-9.]+/s, oldest \d+m?s; $($paused.Name): 0 waiting.*, paused$"
        $output | Should -Not -Match "`e"
    }

    It 'refuses an interval under 100 ms, saying so' {
        { Watch-DelayedQueue $busy -Interval '00:00:00.01' -MaxSamples 1 } | Should -Throw '*at least 100 ms*'
    }
}

Describe 'Start-DelayedDashboard in the foreground' {
    It 'serves until Ctrl+C, then frees its port and gives the prompt back' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
        $session = Start-Terminal "Start-DelayedDashboard '$($busy.Name)' -Port $port"
        Wait-Until { try { (Invoke-WebRequest "http://127.0.0.1:$port/" -UseBasicParsing).Content -match $busy.Name } catch { $false } } "the dashboard to answer" -Details { "The screen showed: $(Get-Screen $session)" }
        (& tmux -L $socket capture-pane -p -J -t $session) -join "`n" | Should -Match "at http://127\.0\.0\.1:$port/\. Press Ctrl\+C to stop"
        & tmux -L $socket send-keys -t $session C-c
        Wait-Until { (Get-Screen $session)[-1..-20] -match '^PS .*> ?$' } 'the prompt' -Details { "The screen showed: $(Get-Screen $session)" }
        { Invoke-WebRequest "http://127.0.0.1:$port/" -UseBasicParsing -TimeoutSec 5 } | Should -Throw
    }
}
