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
    function Report([string] $What, [double] $Value) { '{0,-45} {1,12:N2} {2}' -f $What, $Value, 'tasks/s' }
    function Fill([string] $Name, [int] $Count) {
        1..$Count | ForEach-Object { [pscustomobject]@{ Name = $Name } } | Add-DelayedTask $queue -ProgressAction SilentlyContinue
    }
    function Drain([int] $Count, [hashtable] $Parameters) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $summary = Start-DelayedWorker $queue -StopWhenEmpty @Parameters
        if ($summary.Succeeded -ne $Count) { throw "drained $($summary.Succeeded) of $Count" }
        $summary.Succeeded / $clock.Elapsed.TotalSeconds
    }

    $count = 100000
    $objects = 1..$count | ForEach-Object { [pscustomobject]@{ Name = 'noop'; ArgumentList = @($_, 'two') } }
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $objects | Add-DelayedTask $queue -ProgressAction SilentlyContinue
    Report 'Add-DelayedTask from a pipeline of 100,000' ($count / $clock.Elapsed.TotalSeconds)
    Report 'Start-DelayedWorker, no-op scriptblock' (Drain $count @{ Handler = @{ noop = { param($a, $b) } } })

    Fill noop 50000
    Report 'no-op scriptblock, 4 runspaces' (Drain 50000 @{ Handler = @{ noop = { } }; Concurrency = 4 })
    Fill example:noop 50000
    Report 'no-op .NET handler, 1 slot' (Drain 50000 @{ AssemblyPath = $examples })
    Fill example:noop 100000
    Report 'no-op .NET handler, 8 slots' (Drain 100000 @{ AssemblyPath = $examples; Concurrency = 8 })
} finally {
    Stop-LocalRedis $server
}
