<#
.SYNOPSIS
    The cmdlet benchmark (part of `./build.ps1 bench`): enqueue from a pipeline, drain with a scriptblock.
#>
$ErrorActionPreference = 'Stop'
Import-Module $env:DELAYED_MODULE

Import-Module (Join-Path $PSScriptRoot '../tools/LocalRedis.psm1')
$server = Start-LocalRedis
try {
    $queue = New-DelayedQueue bench -Redis $server.Configuration
    $count = 100000
    $objects = 1..$count | ForEach-Object { [pscustomobject]@{ Name = 'noop'; ArgumentList = @($_, 'two') } }

    $clock = [Diagnostics.Stopwatch]::StartNew()
    $objects | Add-DelayedTask $queue -ProgressAction SilentlyContinue
    $enqueue = $count / $clock.Elapsed.TotalSeconds

    $clock.Restart()
    $summary = Start-DelayedWorker $queue -Handler @{ noop = { param($a, $b) } } -StopWhenEmpty
    $drain = $summary.Succeeded / $clock.Elapsed.TotalSeconds
    if ($summary.Succeeded -ne $count) { throw "drained $($summary.Succeeded) of $count" }

    '{0,-45} {1,12:N2} {2}' -f 'Add-DelayedTask from a pipeline of 100,000', $enqueue, 'tasks/s'
    '{0,-45} {1,12:N2} {2}' -f 'Start-DelayedWorker, no-op scriptblock', $drain, 'tasks/s'
} finally {
    Stop-LocalRedis $server
}
