<#
.SYNOPSIS
    One Python worker (keakon/delayed) and one of this module's on one queue, both idle and timing out every 50 ms, while
    tasks come 0-30 ms apart: every task must run once, and the Python worker must never fail a claim.
.DESCRIPTION
    A manual check, not part of the test command: the Python implementation is not served on the CI machine (install it
    with `pip install delayed`, or pass -PackagePath, a folder holding its `delayed` package, e.g. a clone of
    keakon/delayed). It needs python3 with the redis and msgpack packages (Debian: python3-redis python3-msgpack) and
    redis-server. It guards what docs/protocol.md (Claim) promises the peers: a claim of ours never takes a task whose
    token a Python or Go worker has just taken, which would leave that worker a token without a task (its claim script
    then fails on an empty list: "Failed to dequeue task." in its log).
.EXAMPLE
    ./tests/Interop/Invoke-PythonInterop.ps1 -Count 2000 -PackagePath ~/src/delayed -Python /usr/bin/python3
#>
param(
    [int] $Count = 2000,
    [string] $PackagePath,
    [string] $Python = 'python3',
    [string] $Module = (Join-Path $PSScriptRoot '../../out/Delayed/Delayed.psd1')
)
$ErrorActionPreference = 'Stop'
Import-Module $Module
Import-Module (Join-Path $PSScriptRoot '../../tools/LocalRedis.psm1')
$pythonRan = Join-Path $PSScriptRoot 'python-ran.log'
$oursRan = Join-Path ([IO.Path]::GetTempPath()) "delayed-interop-ours-$PID.log"
$pythonErrors = Join-Path ([IO.Path]::GetTempPath()) "delayed-interop-python-$PID.err"
Remove-Item $pythonRan, $oursRan, $pythonErrors -ErrorAction Ignore
$server = Start-LocalRedis
$pythonProcess = $null; $job = $null
try {
    $arguments = @((Join-Path $PSScriptRoot 'python_worker.py'), $server.Port, '{interop}') + @($PackagePath | Where-Object { $_ })
    $pythonProcess = Start-Process $Python -ArgumentList $arguments -RedirectStandardError $pythonErrors -PassThru
    $queue = New-DelayedQueue '{interop}' -Redis $server.Configuration -DequeueTimeout '00:00:00.05'
    # The handler runs in the worker's own runspace, where no variable of this script is: the path is written into it.
    $record = [scriptblock]::Create("param(`$i) Add-Content -LiteralPath '$oursRan' -Value `$i")
    $job = Start-DelayedWorker $queue -Handler @{ 'interop_tasks:record' = $record } -AsJob
    Start-Sleep 2
    foreach ($i in 1..$Count) {
        Add-DelayedTask $queue 'interop_tasks:record' $i
        # Gaps of a few ms to tens of ms: both workers go idle, and their waits time out now and then.
        [Threading.Thread]::Sleep((Get-Random -Minimum 0 -Maximum 30))
    }
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    do {
        Start-Sleep -Milliseconds 200
        $ran = @(Get-Content $pythonRan, $oursRan -ErrorAction Ignore)
    } until ($ran.Count -ge $Count -or [DateTime]::UtcNow -gt $deadline)
    Start-Sleep 1
    $byPython = @(Get-Content $pythonRan -ErrorAction Ignore)
    $byUs = @(Get-Content $oursRan -ErrorAction Ignore)
    $twice = @($byPython + $byUs | Group-Object | Where-Object Count -gt 1).Count
    $failed = @(Select-String -Path $pythonErrors -Pattern 'Failed to dequeue' -ErrorAction Ignore).Count
    $status = Get-DelayedQueue $queue
    [pscustomobject]@{
        Tasks = $Count; RanByPython = $byPython.Count; RanByUs = $byUs.Count; RanTwice = $twice
        PythonClaimsFailed = $failed; Left = $status.Length; TokensLeft = $status.Tokens; FailedHere = $status.Failed
    }
    if ($byPython.Count -eq 0) { Write-Warning "The Python worker ran nothing: see $pythonErrors." }
    if ($failed -gt 0 -or $twice -gt 0 -or $byPython.Count + $byUs.Count -ne $Count) { throw "Interop check failed: see the record above and $pythonErrors." }
} finally {
    if ($job) { $job | Stop-Job; $job | Remove-Job -Force }
    if ($pythonProcess) { Stop-Process -Id $pythonProcess.Id -ErrorAction Ignore }
    Stop-LocalRedis $server
    Remove-Item $pythonRan, $oursRan -ErrorAction Ignore
}
