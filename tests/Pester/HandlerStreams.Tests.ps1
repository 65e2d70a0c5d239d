BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
    # One handler that writes to every stream a worker must pass on; the error is non-terminating by its own choice.
    $talker = {
        param($Server)
        Write-Warning "low disk on $Server"
        Write-Host "patching $Server"
        Write-Information "info $Server"
        Write-Verbose "verbose $Server"
        Write-Error "soft error on $Server" -ErrorAction Continue
        "output $Server"
    }
}
AfterAll { Stop-TestRedis $redis }

Describe 'A handler''s records reach the worker''s own streams in every run mode' {
    BeforeEach {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.1'
        Add-DelayedTask $queue talk web1
    }

    It 'in the foreground: warnings, Write-Host and errors in the worker''s streams, output not mixed into its records' -TestCases @(
        @{ Mode = 'foreground'; Extra = @{} }
        @{ Mode = '-Concurrency 2'; Extra = @{ Concurrency = 2 } }
        @{ Mode = '-TaskTimeout (a runspace of its own)'; Extra = @{ TaskTimeout = '00:01:00' } }
    ) {
        $VerbosePreference = 'Continue'
        $all = Start-DelayedWorker $queue -StopWhenEmpty -Handler @{ talk = $talker } @Extra -WarningVariable warnings -ErrorVariable errors `
            -InformationVariable information -WarningAction SilentlyContinue -ErrorAction SilentlyContinue -InformationAction SilentlyContinue 4>&1
        $summary = $all | Where-Object { $_ -is [Delayed.WorkerSummary] }
        $summary.Succeeded | Should -Be 1 -Because "a non-terminating error the handler chose does not fail its task ($Mode)"
        @($warnings).Message | Should -Contain 'low disk on web1'
        @($information.MessageData | ForEach-Object { "$_" }) | Should -Contain 'patching web1'
        @($information.MessageData | ForEach-Object { "$_" }) | Should -Contain 'info web1'
        @($errors | ForEach-Object { "$_" }) | Should -Contain 'soft error on web1'
        @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Contain 'verbose web1' -Because 'handlers in runspaces get the caller''s $VerbosePreference'
        $all | Should -Not -Contain 'output web1'
    }

    It 'in the foreground, while the task still runs: the worker writes the warning before the handler returns' {
        Add-DelayedTask $queue wait
        $global:delayedWarningSeen = $false
        # The handler waits (at most 10 s) for the command after the worker to have seen its warning; all on one thread.
        Start-DelayedWorker $queue -StopWhenEmpty -LogFormat Json -Handler @{
            talk = {}
            wait = {
                Write-Warning 'waiting to be seen'
                $deadline = [DateTime]::UtcNow.AddSeconds(10)
                while (-not $global:delayedWarningSeen -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 10 }
                $global:delayedSeenWhileRunning = $global:delayedWarningSeen
            }
        } | ForEach-Object { if ($_ -match '"waiting to be seen"') { $global:delayedWarningSeen = $true } }
        $global:delayedWarningSeen | Should -BeTrue -Because 'the worker wrote the warning at all'
        $global:delayedSeenWhileRunning | Should -BeTrue -Because 'the handler was still running when its warning went out'
    }

    It 'under -AsJob, while the task still runs: the job''s streams have the warning before the handler returns' {
        $gate = Join-Path $TestDrive 'gate'
        Add-DelayedTask $queue wait $gate
        $job = Start-DelayedWorker $queue -StopWhenEmpty -AsJob -Handler @{
            talk = $talker
            wait = { param($Gate) Write-Warning 'waiting for the gate'; while (-not (Test-Path $Gate)) { Start-Sleep -Milliseconds 20 } }
        }
        try {
            Wait-Until { $job.ChildJobs[0].Warning.Message -contains 'waiting for the gate' -or $job.Warning.Message -contains 'waiting for the gate' } 'the warning of the running task in the job'
            $job.State | Should -Be Running -Because 'the handler that wrote it is still waiting for the gate'
            New-Item $gate | Out-Null
            $job | Wait-Job -Timeout 30 | Out-Null
            $null = Receive-Job $job -WarningVariable warnings -InformationVariable information -ErrorVariable errors -WarningAction SilentlyContinue -ErrorAction SilentlyContinue
            @($warnings).Message | Should -Contain 'low disk on web1'
            @($information.MessageData | ForEach-Object { "$_" }) | Should -Contain 'patching web1'
            @($errors | ForEach-Object { "$_" }) | Should -Contain 'soft error on web1'
        } finally { $job | Remove-Job -Force }
    }

    It 'with -LogFormat Json: one line per record, naming its stream, task, worker and attempt' -TestCases @(
        @{ Mode = 'foreground'; Extra = @{} }
        @{ Mode = '-Concurrency 2'; Extra = @{ Concurrency = 2 } }
    ) {
        $lines = Start-DelayedWorker $queue -StopWhenEmpty -LogFormat Json -Handler @{ talk = $talker } @Extra -WarningVariable warnings -InformationVariable information -ErrorVariable errors
        @($warnings).Count + @($information).Count + @($errors).Count | Should -Be 0 -Because "every record became a JSON line ($Mode)"
        $records = @($lines | ForEach-Object { $_ | ConvertFrom-Json } | Where-Object event -eq HandlerRecord)
        $records.stream | Sort-Object | Should -Be @('error', 'host', 'information', 'warning')
        ($records | Where-Object stream -eq warning).message | Should -Be 'low disk on web1'
        ($records | Where-Object stream -eq warning).level | Should -Be 'warning'
        ($records | Where-Object stream -eq host).message | Should -Be 'patching web1'
        ($records | Where-Object stream -eq error).level | Should -Be 'error'
        $records.task | Select-Object -Unique | Should -Be 'talk'
        $records.attempt | Select-Object -Unique | Should -Be 1
        $started = $lines | ForEach-Object { $_ | ConvertFrom-Json } | Where-Object event -eq TaskStarted
        $records.worker | Select-Object -Unique | Should -Be $started.worker
    }
}
