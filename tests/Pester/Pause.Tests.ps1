# Suspend-DelayedQueue and Resume-DelayedQueue: a worker says once that the queue is paused and takes nothing;
# Get-DelayedQueue shows since when and why; enqueueing goes on.
BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
}
AfterAll { Stop-TestRedis $redis }

Describe 'Suspend-DelayedQueue' {
    BeforeEach { $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration -DequeueTimeout '00:00:00.2' }

    It 'pauses with a reason that Get-DelayedQueue shows, and resumes' {
        $before = [DateTimeOffset]::Now.AddSeconds(-5)
        $info = Suspend-DelayedQueue $queue -Reason 'maintenance window' -PassThru
        $info.Paused | Should -BeTrue
        $info.PauseReason | Should -Be 'maintenance window'
        $info.PausedSince | Should -BeGreaterThan $before
        (Get-DelayedQueue $queue | Format-Table | Out-String -Width 200) | Should -BeLike '*Paused*True*'
        Add-DelayedTask $queue t 1
        (Get-DelayedQueue $queue).Length | Should -Be 1
        $resumed = Get-DelayedQueue $queue | Resume-DelayedQueue -PassThru
        $resumed.Paused | Should -BeFalse
        $resumed.PauseReason | Should -BeNullOrEmpty
    }

    It 'keeps a worker from taking tasks while paused, warning once, and lets it go on once resumed' {
        Add-DelayedTask $queue t 1
        Suspend-DelayedQueue $queue -Reason test
        $job = Start-DelayedWorker $queue -AsJob -Handler @{ t = { param($n) } }
        try {
            Wait-Until { @($job.Warning).Count -gt 0 } 'the worker to say that the queue is paused'
            "$($job.Warning[0])" | Should -BeLike "*Queue '$($queue.Name)' is paused*Resume-DelayedQueue*"
            (Get-DelayedQueue $queue).Length | Should -Be 1
            Resume-DelayedQueue $queue
            Wait-Until { (Get-DelayedQueue $queue).Length -eq 0 -and (Get-DelayedQueue $queue).InFlight -eq 0 } 'the worker to run the task once resumed'
            @($job.Warning).Count | Should -Be 1
        } finally { $job | Stop-Job -PassThru | Remove-Job -Force }
    }

    It 'changes nothing with -WhatIf' {
        Suspend-DelayedQueue $queue -WhatIf
        (Get-DelayedQueue $queue).Paused | Should -BeFalse
    }
}
