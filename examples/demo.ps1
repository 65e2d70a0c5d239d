<#
.SYNOPSIS
    Delayed at work: a local Redis, a few thousand tasks, a sweeper and a worker, and a look at what runs.
.DESCRIPTION
    Run with `dotnet pwsh ./build.ps1 demo`. Starts redis-server from PATH on a free loopback port, and stops
    every process it started when it ends, also on Ctrl+C.
#>
$ErrorActionPreference = 'Stop'
$module = if ($env:DELAYED_MODULE) { $env:DELAYED_MODULE } else { Join-Path $PSScriptRoot '../out/Delayed/Delayed.psd1' }
Import-Module $module

Import-Module (Join-Path $PSScriptRoot '../tools/Pwsh.psm1')
function Start-Child([string] $Script) { Start-PwshProcess -Script "Import-Module '$module'; $Script" }

Import-Module (Join-Path $PSScriptRoot '../tools/LocalRedis.psm1')
$server = Start-LocalRedis
$children = @()
try {
    $redis = $server.Configuration
    $queue = New-DelayedQueue thumbnails -Redis $redis
    Write-Host "`n== A queue on the local Redis (started on port $($server.Port))" -ForegroundColor Cyan
    $queue | Format-Table | Out-Host

    Write-Host "== Enqueue 3,000 tasks from a pipeline" -ForegroundColor Cyan
    $clock = [Diagnostics.Stopwatch]::StartNew()
    1..3000 | ForEach-Object { [pscustomobject]@{ Name = 'Resize-Image'; ArgumentList = @("photo$_.jpg"); Parameter = @{ Width = 128 } } } | Add-DelayedTask $queue
    Add-DelayedTask $queue 'Resize-Image' 'broken.jpg' -Parameter @{ Width = -1 } -Retry 1
    Add-DelayedTask $queue 'Format-Disk' 'C:'   # no handler is registered for this name: it is refused
    Write-Host ("3,002 tasks enqueued in {0:N0} ms" -f $clock.Elapsed.TotalMilliseconds)

    Write-Host "`n== A sweeper (every 2 s) and a worker, each in a pwsh process of its own" -ForegroundColor Cyan
    $children += Start-Child "Start-DelayedSweeper (New-DelayedQueue thumbnails -Redis '$redis') -Interval '00:00:02' | Out-Null"
    $children += ($worker = Start-Child @"
`$handlers = @{ 'Resize-Image' = { param(`$Path, `$Width) if (`$Width -lt 0) { throw "bad width `$Width for `$Path" }; Start-Sleep -Milliseconds 1 } }
Start-DelayedWorker (New-DelayedQueue thumbnails -Redis '$redis') -Handler `$handlers -StopWhenEmpty -ErrorAction SilentlyContinue -WarningAction SilentlyContinue |
    Format-Table Queue, Processed, Succeeded, Failed, Retried, Returned, Duration | Out-String
"@)
    $summary = $worker.StandardOutput.ReadToEndAsync()
    Start-Sleep -Milliseconds 1500
    while (-not $worker.HasExited) {
        Write-Host "`n== Get-DelayedQueue, Get-DelayedWorker, Get-DelayedProcessing: the queue, its workers, what runs right now" -ForegroundColor Cyan
        Get-DelayedQueue $queue | Format-Table | Out-Host
        Get-DelayedWorker $queue | Format-Table | Out-Host
        Get-DelayedProcessing $queue | Format-Table | Out-Host
        Start-Sleep -Seconds 2
    }
    Write-Host "== The worker's summary (one retry of the broken image, one refused task)" -ForegroundColor Cyan
    Write-Host $summary.Result.Trim()
    Write-Host "`n== A last sweep" -ForegroundColor Cyan
    Start-DelayedSweeper $queue -Once | Format-Table | Out-Host
} finally {
    foreach ($child in $children) { if (-not $child.HasExited) { $child.Kill() }; $child.WaitForExit() }
    Stop-LocalRedis $server
    Write-Host 'Stopped the worker, the sweeper and redis-server.'
}
