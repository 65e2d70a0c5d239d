<#
.SYNOPSIS
    The cmdlet benchmark (part of `./build.ps1 bench`): enqueue from a pipeline; drain with scriptblock and
    .NET handlers, in the foreground and with several slots.
#>
$ErrorActionPreference = 'Stop'
Import-Module $env:DELAYED_MODULE
Import-Module (Join-Path $PSScriptRoot '../tools/LocalRedis.psm1')
$examples = Join-Path (Split-Path (Split-Path $env:DELAYED_MODULE)) 'examples/Delayed.Examples.dll'
$server = Start-LocalRedis
try {
    $queue = New-DelayedQueue bench -Redis $server.Configuration -DequeueTimeout '00:00:00.1'
    function Report([string] $What, [double] $Value, [string] $Unit = 'tasks/s') { '{0,-45} {1,12:N2} {2}' -f $What, $Value, $Unit }
    # A rate, and the bytes this pwsh process allocated per task meanwhile.
    function Measure-Run([string] $What, [int] $Count, [scriptblock] $Run) {
        $allocated = [GC]::GetTotalAllocatedBytes($true)
        $clock = [Diagnostics.Stopwatch]::StartNew()
        & $Run
        $seconds = $clock.Elapsed.TotalSeconds
        Report $What ($Count / $seconds)
        Report '  allocated per task' (([GC]::GetTotalAllocatedBytes($true) - $allocated) / $Count) 'bytes'
    }
    function Fill([string] $Name, [int] $Count) {
        1..$Count | ForEach-Object { [pscustomobject]@{ Name = $Name } } | Add-DelayedTask $queue -ProgressAction SilentlyContinue
    }
    function Drain([string] $What, [int] $Count, [hashtable] $Parameters) {
        Measure-Run $What $Count {
            $summary = Start-DelayedWorker $queue -StopWhenEmpty @Parameters
            if ($summary.Succeeded -ne $Count) { throw "drained $($summary.Succeeded) of $Count" }
        }
    }

    # Every path once before measuring: the figures are steady-state rates, not JIT tiering and first connects.
    Fill noop 2000
    Start-DelayedWorker $queue -StopWhenEmpty -Handler @{ noop = { } } | Out-Null
    Fill noop 2000
    Start-DelayedWorker $queue -StopWhenEmpty -Handler @{ noop = { } } -Concurrency 4 | Out-Null
    Fill example:noop 2000
    Start-DelayedWorker $queue -StopWhenEmpty -AssemblyPath $examples -Concurrency 8 | Out-Null

    $count = 100000
    $objects = 1..$count | ForEach-Object { [pscustomobject]@{ Name = 'noop'; ArgumentList = @($_, 'two') } }
    Measure-Run 'Add-DelayedTask from a pipeline of 100,000' $count { $objects | Add-DelayedTask $queue -ProgressAction SilentlyContinue }
    # Once per task, as a script that enqueues in a loop does: a command call and a round trip each.
    foreach ($i in 1..2000) { Add-DelayedTask $queue noop $i, 'two' }
    Measure-Run 'Add-DelayedTask once per task in a foreach loop' 20000 { foreach ($i in 1..20000) { Add-DelayedTask $queue noop $i, 'two' } }
    $count += 22000
    Drain 'Start-DelayedWorker, no-op scriptblock' $count @{ Handler = @{ noop = { param($a, $b) } } }

    Fill noop 50000
    Drain 'no-op scriptblock, 4 runspaces' 50000 @{ Handler = @{ noop = { } }; Concurrency = 4 }
    Fill example:noop 50000
    Drain 'no-op .NET handler, 1 slot' 50000 @{ AssemblyPath = $examples }
    Fill example:noop 100000
    Drain 'no-op .NET handler, 8 slots' 100000 @{ AssemblyPath = $examples; Concurrency = 8 }
    Report 'peak working set of this pwsh process' ((Get-Process -Id $PID).PeakWorkingSet64 / 1MB) 'MiB'
} finally {
    Stop-LocalRedis $server
}
