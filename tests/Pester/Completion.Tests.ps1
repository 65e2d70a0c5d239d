BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
    function Complete([string] $line) { (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText }
}
AfterAll { Stop-TestRedis $redis }

Describe 'Tab completion' {
    It 'completes registered handler names for -Name' {
        Register-DelayedHandler -Name 'ops:restart' -ScriptBlock { }
        Register-DelayedHandler -Name 'ops:patch now' -ScriptBlock { }
        Register-DelayedHandler -Name 'reports:daily' -ScriptBlock { }
        Complete 'Get-DelayedHandler -Name ops:' | Should -Be @("'ops:patch now'", 'ops:restart')
        Complete 'Unregister-DelayedHandler -Name rep' | Should -Be @('reports:daily')
        Complete 'Add-DelayedTask -Queue q -Name ops:r' | Should -Be @('ops:restart')
    }

    It 'completes time zone ids for a schedule' {
        Complete 'Register-DelayedSchedule -Queue q -Name n -TimeZone Europe/Berl' | Should -Be @('Europe/Berlin')
    }

    It 'completes queue names known to the session and found on the server' {
        $env:DELAYED_REDIS = $redis.Configuration
        try {
            New-DelayedQueue 'billing' | Out-Null
            # A queue that only another client used: found by the bounded scan.
            $redis.Db.ListRightPush('backups_noti', '1') | Out-Null
            $redis.Db.HashSet('batch_processing', 'w', 't') | Out-Null
            Complete 'Get-DelayedQueue -Queue b' | Should -Be @('backups', 'batch', 'billing')
            Complete 'Start-DelayedWorker -Queue bi' | Should -Be @('billing')
            Complete "New-DelayedQueue -Redis '$($redis.Configuration)' -Name ba" | Should -Be @('backups', 'batch')
        } finally { Remove-Item Env:DELAYED_REDIS }
    }

    It 'does not wait on a server it has no connection to' {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Complete "New-DelayedQueue -Redis '127.0.0.1:1' -Name x" | Should -BeNullOrEmpty
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 2
    }
}
