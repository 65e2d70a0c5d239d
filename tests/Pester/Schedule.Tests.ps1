# Recurring schedules through the cmdlets: register (idempotently, from a file), list, fire through a worker,
# suspend and resume, unregister; and errors that say what to give.
BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
}
AfterAll { Stop-TestRedis $redis }

Describe 'Register-DelayedSchedule and friends' {
    BeforeEach { $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.2' }

    It 'registers a schedule whose next run is the cron time in its zone, and lists it' {
        $schedule = Register-DelayedSchedule $queue -Name nightly-patch -Cron '0 2 * * 1-5' -TimeZone Europe/Berlin -TaskName Patch-Server -ArgumentList web -Retry 2
        $schedule.Name | Should -Be nightly-patch
        $berlin = [TimeZoneInfo]::ConvertTime($schedule.NextRun, [TimeZoneInfo]::FindSystemTimeZoneById('Europe/Berlin'))
        $berlin.Hour | Should -Be 2
        $berlin.Minute | Should -Be 0
        $berlin.DayOfWeek | Should -BeIn ([DayOfWeek]::Monday..[DayOfWeek]::Friday)
        $listed = Get-DelayedSchedule $queue
        $listed.Name | Should -Be nightly-patch
        $listed.TaskName | Should -Be Patch-Server
        $listed.ArgumentList | Should -Be web
        $listed.Retry | Should -Be 2
        $listed.Suspended | Should -BeFalse
        ($listed | Format-Table | Out-String -Width 250) | Should -BeLike '*Suspended*NextRun*LastRun*LastOutcome*'
    }

    It 'shows the next runs with -WhatIf and registers nothing' {
        # What -WhatIf says goes to the host: read it from a pwsh of its own.
        $process = Start-PwshProcess "Register-DelayedSchedule (New-DelayedQueue '$($queue.Name)' -Redis '$($redis.Configuration)') -Name hourly -Cron '@hourly' -TimeZone UTC -TaskName t -WhatIf"
        $out = $process.StandardOutput.ReadToEnd()
        $process.WaitForExit()
        ($out -replace '\s+', ' ') | Should -BeLike "*Register: task 't' at '@hourly' (UTC); next runs *:00:00 +00:00, *:00:00 +00:00, *:00:00 +00:00*"
        Get-DelayedSchedule $queue | Should -BeNullOrEmpty
    }

    It 'applies a set kept in a .psd1 file again and again: unchanged ones stay, a changed one is updated' {
        $file = Join-Path $TestDrive 'schedules.psd1'
        Set-Content $file "@{ Schedules = @(@{ Name = 'report'; Cron = '@daily'; TimeZone = 'UTC'; TaskName = 'Send-Report' }, @{ Name = 'cleanup'; Cron = '*/5 * * * *'; TimeZone = 'UTC'; TaskName = 'Clear-Temp'; ArgumentList = @('/tmp', 7) }) }"
        $apply = { ((Import-PowerShellDataFile $file).Schedules | ForEach-Object { [pscustomobject]$_ } | Register-DelayedSchedule $queue -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'Schedule *' }).Message }
        & $apply | Should -Be @("Schedule 'report' of queue '$($queue.Name)': created.", "Schedule 'cleanup' of queue '$($queue.Name)': created.")
        $before = Get-DelayedSchedule $queue
        & $apply | Should -BeLike '*: unchanged.'
        (Get-DelayedSchedule $queue).NextRun | Should -Be $before.NextRun
        (Get-DelayedSchedule $queue cleanup).ArgumentList | Should -Be @('/tmp', 7)
        Register-DelayedSchedule $queue report -Cron '@weekly' -TimeZone UTC -TaskName Send-Report | Out-Null
        (Get-DelayedSchedule $queue report).Cron | Should -Be '@weekly'
        @(Get-DelayedSchedule $queue).Count | Should -Be 2
    }

    It 'is fired by a worker: each run enqueues the task, and the listing says when and what it did' {
        Register-DelayedSchedule $queue -Name tick -Cron '* * * * * *' -TimeZone UTC -TaskName tick -ArgumentList 1 | Out-Null
        $summary = Start-DelayedWorker $queue -MaxTasks 2 -Handler @{ tick = { param($n) } }
        $summary.Succeeded | Should -Be 2
        $schedule = Get-DelayedSchedule $queue tick
        $schedule.LastOutcome | Should -Be Enqueued
        $schedule.RunCount | Should -BeGreaterOrEqual 2
        $schedule.NextRun | Should -BeGreaterThan $schedule.LastRun
        # The table of a console 120 columns wide shows all of it, the times as the other views write them.
        $lines = ($schedule | Format-Table | Out-String -Width 120) -split "\r?\n" | Where-Object { $_.Trim() }
        $lines[0] -split '\s+' | Where-Object { $_ } | Should -Be Name, TaskName, Cron, TimeZone, Suspended, NextRun, LastRun, LastOutcome
        $lines[2] | Should -Match ([regex]::Escape($schedule.LastRun.ToString('yyyy-MM-dd HH:mm:ss')) + '\s+Enqueued\s*$')
    }

    It 'holds a suspended schedule, keeps it suspended through an update, and resumes it' {
        Register-DelayedSchedule $queue -Name tick -Cron '* * * * * *' -TimeZone UTC -TaskName tick | Out-Null
        $suspended = Get-DelayedSchedule $queue tick | Suspend-DelayedSchedule -PassThru
        $suspended.Suspended | Should -BeTrue
        $suspended.NextRun | Should -BeNullOrEmpty
        Register-DelayedSchedule $queue -Name tick -Cron '*/2 * * * * *' -TimeZone UTC -TaskName tick | Out-Null
        (Get-DelayedSchedule $queue tick).Suspended | Should -BeTrue
        # A sweeper pass fires every due run: a suspended schedule has none.
        Start-DelayedSweeper $queue -Once | Out-Null
        (Get-DelayedQueue $queue).Length | Should -Be 0
        $resumed = Resume-DelayedSchedule $queue tick -PassThru
        $resumed.Suspended | Should -BeFalse
        $resumed.NextRun | Should -Not -BeNullOrEmpty
    }

    It 'unregisters after confirming, and says so when there is no such schedule' {
        Register-DelayedSchedule $queue -Name gone -Cron '@daily' -TimeZone UTC -TaskName t | Out-Null
        Get-DelayedSchedule $queue gone | Unregister-DelayedSchedule -Confirm:$false
        Get-DelayedSchedule $queue | Should -BeNullOrEmpty
        Unregister-DelayedSchedule $queue gone -Confirm:$false -ErrorVariable problems -ErrorAction SilentlyContinue
        "$problems" | Should -BeLike "*has no schedule named 'gone'*Get-DelayedSchedule*"
    }

    It 'refuses a bad cron expression or time zone with what to give, and registers nothing' {
        Register-DelayedSchedule $queue -Name bad -Cron '0 25 * * *' -TimeZone UTC -TaskName t -ErrorVariable problems -ErrorAction SilentlyContinue
        "$problems" | Should -BeLike "*Schedule 'bad' was not registered: The cron expression '0 25 * * *' is not valid*@daily*"
        Register-DelayedSchedule $queue -Name bad -Cron '@daily' -TimeZone Mars/Olympus -TaskName t -ErrorVariable problems -ErrorAction SilentlyContinue
        "$problems" | Should -BeLike "*The time zone 'Mars/Olympus' is not known*"
        Get-DelayedSchedule $queue | Should -BeNullOrEmpty
    }
}
