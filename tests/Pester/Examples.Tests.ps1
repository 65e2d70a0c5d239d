# The deployment examples users copy: the systemd units and the Windows scheduled-task script run the commands
# they say they run, with the example handlers file, against a real Redis.
BeforeAll {
    Import-Module $env:DELAYED_MODULE
    Import-Module "$PSScriptRoot/TestSupport.psm1"
    $redis = Start-TestRedis
    $examples = Join-Path $PSScriptRoot '../../examples'
    # "Import-Module Delayed" in the examples finds the built module, as it finds an installed one.
    $environment = @{
        DELAYED_REDIS = $redis.Configuration
        PSModulePath  = (Split-Path (Split-Path $env:DELAYED_MODULE)) + [IO.Path]::PathSeparator + $env:PSModulePath
    }
    $handlers = Join-Path $TestDrive "it's the handlers.ps1" # a space and a quote: the commands must quote it
    Copy-Item (Join-Path $examples 'handlers.example.ps1') $handlers

    # The -Command text of a unit's ExecStart, for the queue and the handlers file given.
    function Get-UnitCommand([string] $Unit, [string] $Queue) {
        $line = Get-Content (Join-Path $examples "systemd/$Unit") | Where-Object { $_ -like 'ExecStart=*' }
        $pattern = '^ExecStart=/usr/bin/pwsh -NoProfile -NonInteractive -Command "(.*)"$'
        $line | Should -Match $pattern
        [regex]::Match($line, $pattern).Groups[1].Value.Replace('%i', $Queue).Replace('/etc/delayed/handlers.ps1', "'$($handlers.Replace("'", "''"))'")
    }
}
AfterAll { Stop-TestRedis $redis }

Describe 'systemd units' {
    It 'delayed-worker@ runs the example handlers, logs JSON lines, and stops gracefully on SIGTERM' -Skip:$IsWindows {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        Add-DelayedTask $queue Restart-Site -Parameter @{ Server = 'web01' }
        $process = Start-PwshProcess -Script (Get-UnitCommand 'delayed-worker@.service' $queue.Name) -Environment $environment
        try {
            $line = Wait-Match $process '"event":"TaskSucceeded"'
            ($line | ConvertFrom-Json).task | Should -Be 'Restart-Site'
            & kill -TERM $process.Id
            $process.WaitForExit(30000) | Should -BeTrue
            $process.ExitCode | Should -Be 0
        } finally { if (-not $process.HasExited) { $process.Kill() } }
        $redis.Db.HashLength($queue.ProcessingKey) | Should -Be 0
    }

    It 'delayed-drain@ takes what waits, puts back what the handlers do not name, and exits 0' -Skip:$IsWindows {
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        Add-DelayedTask $queue Restart-Site -Parameter @{ Server = 'web01'; Force = $true }
        Add-DelayedTask $queue Format-Disk 'C:'
        $process = Start-PwshProcess -Script (Get-UnitCommand 'delayed-drain@.service' $queue.Name) -Environment $environment
        try {
            $process.WaitForExit(60000) | Should -BeTrue
            $events = @($process.StandardOutput.ReadToEnd() -split "`n" | Where-Object { $_ -like '{*' } | ConvertFrom-Json)
            $process.ExitCode | Should -Be 0
        } finally { if (-not $process.HasExited) { $process.Kill() } }
        ($events | Where-Object event -EQ 'TaskSucceeded').task | Should -Be 'Restart-Site'
        ($events | Where-Object event -EQ 'TaskReturned').task | Should -Be 'Format-Disk'
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 0
        (Get-DelayedTask $queue -Scheduled).Name | Should -Be 'Format-Disk'
    }

    It 'delayed-sweeper recovers the task of a dead worker and stops on SIGTERM' -Skip:$IsWindows {
        # The unit names its queues (jobs, reports); this test file has a Redis of its own.
        $jobs = New-DelayedQueue jobs -Redis $redis.Configuration
        $redis.Db.HashSet($jobs.ProcessingKey, 'gone-worker', 'task bytes') | Out-Null
        $process = Start-PwshProcess -Script (Get-UnitCommand 'delayed-sweeper.service' 'unused') -Environment $environment
        try {
            Wait-Until { $redis.Db.ListLength($jobs.TaskKey) -gt 0 } 'the sweeper unit to recover the task' 60
            $redis.Db.ListLength($jobs.TaskKey) | Should -Be 1
            $redis.Db.HashLength($jobs.ProcessingKey) | Should -Be 0
            & kill -TERM $process.Id
            $process.WaitForExit(30000) | Should -BeTrue
            $process.ExitCode | Should -Be 0
        } finally { if (-not $process.HasExited) { $process.Kill() } }
    }
}

Describe 'Register-DelayedDrainTask.ps1 (Windows Task Scheduler)' {
    BeforeAll {
        # The ScheduledTasks cmdlets exist only on Windows: stand-ins that record what the script asks for.
        function global:New-ScheduledTaskAction([string] $Execute, [string] $Argument) { [pscustomobject]@{ Execute = $Execute; Argument = $Argument } }
        function global:New-ScheduledTaskTrigger { param([switch] $Once, [datetime] $At, [timespan] $RepetitionInterval) [pscustomobject]@{ Interval = $RepetitionInterval } }
        function global:New-ScheduledTaskSettingsSet { param($MultipleInstances, $ExecutionTimeLimit, [switch] $StartWhenAvailable) [pscustomobject]@{ MultipleInstances = $MultipleInstances } }
        function global:Register-ScheduledTask { param($TaskName, $Action, $Trigger, $Settings, $User, $RunLevel, [switch] $Force) $global:registeredTask = [pscustomobject]$PSBoundParameters }
    }
    AfterAll { Remove-Item Function:New-ScheduledTaskAction, Function:New-ScheduledTaskTrigger, Function:New-ScheduledTaskSettingsSet, Function:Register-ScheduledTask }

    It 'registers a task whose command line drains the queue with the handlers script' {
        Mock Get-Command -ParameterFilter { $Name -eq 'pwsh.exe' } { [pscustomobject]@{ Source = 'C:\Program Files\PowerShell\7\pwsh.exe' } }
        $queue = New-DelayedQueue (New-QueueName) -Redis $redis.Configuration
        $global:registeredTask = $null
        & (Join-Path $examples 'windows/Register-DelayedDrainTask.ps1') -Queue $queue.Name -HandlersScript $handlers -Every '00:10:00'
        $registeredTask.TaskName | Should -Be "Delayed drain $($queue.Name)"
        $registeredTask.Action.Execute | Should -Be 'C:\Program Files\PowerShell\7\pwsh.exe'
        $registeredTask.Trigger.Interval | Should -Be ([TimeSpan]::FromMinutes(10))
        $registeredTask.Settings.MultipleInstances | Should -Be 'IgnoreNew'

        # Run the command the task would run (the quoted -Command, as Windows hands it to pwsh).
        $pattern = '^-NoProfile -NonInteractive -Command "(.*)"$'
        $registeredTask.Action.Argument | Should -Match $pattern
        $command = [regex]::Match($registeredTask.Action.Argument, $pattern).Groups[1].Value.Replace('\"', '"')
        Add-DelayedTask $queue Restart-Site -Parameter @{ Server = 'web01' }
        $process = Start-PwshProcess -Script $command -Environment $environment
        try {
            $process.WaitForExit(60000) | Should -BeTrue
            $output = $process.StandardOutput.ReadToEnd()
            $process.ExitCode | Should -Be 0 -Because $process.StandardError.ReadToEnd()
        } finally { if (-not $process.HasExited) { $process.Kill() } }
        $output | Should -Match '"event":"TaskSucceeded".*"task":"Restart-Site"'
        $redis.Db.ListLength($queue.TaskKey) | Should -Be 0
    }

    It 'and every other script Windows PowerShell 5.1 runs use no PowerShell 7-only syntax' {
        $format = [xml](Get-Content (Join-Path (Split-Path $env:DELAYED_MODULE) 'Delayed.Format.ps1xml') -Raw)
        $sources = @{
            'Register-DelayedDrainTask.ps1' = Get-Content (Join-Path $examples 'windows/Register-DelayedDrainTask.ps1') -Raw
            'handlers.example.ps1'          = Get-Content (Join-Path $examples 'handlers.example.ps1') -Raw
        }
        $i = 0
        foreach ($block in $format.SelectNodes('//ScriptBlock')) { $sources["Delayed.Format.ps1xml block $((++$i))"] = $block.InnerText }
        $i | Should -BeGreaterThan 0
        $newer = 'QuestionDot', 'QuestionLBracket', 'QuestionQuestion', 'QuestionQuestionEquals', 'AndAnd', 'OrOr'
        foreach ($name in $sources.Keys) {
            $tokens = $errors = $null
            $ast = [System.Management.Automation.Language.Parser]::ParseInput($sources[$name], [ref] $tokens, [ref] $errors)
            $errors | Should -BeNullOrEmpty -Because $name
            @($tokens | Where-Object { $newer -contains $_.Kind }).Text | Should -BeNullOrEmpty -Because "$name must parse in Windows PowerShell 5.1"
            $ast.FindAll({ param($node) $node.GetType().Name -in 'TernaryExpressionAst', 'PipelineChainAst' }, $true) |
                Should -BeNullOrEmpty -Because "$name must parse in Windows PowerShell 5.1"
        }
    }

    It 'changes nothing with -WhatIf' {
        Mock Get-Command -ParameterFilter { $Name -eq 'pwsh.exe' } { [pscustomobject]@{ Source = 'C:\pwsh.exe' } }
        $global:registeredTask = $null
        & (Join-Path $examples 'windows/Register-DelayedDrainTask.ps1') -Queue jobs -HandlersScript $handlers -WhatIf
        $registeredTask | Should -BeNullOrEmpty
    }
}
