# Shared by the Pester tests: a throwaway redis-server per test file, a raw client, fresh pwsh processes.
Set-StrictMode -Version 3

# The raw client for looking at keys directly is the module's own StackExchange.Redis.
Add-Type -Path (Join-Path (Split-Path $env:DELAYED_MODULE) 'lib/StackExchange.Redis.dll')

Import-Module (Join-Path $PSScriptRoot '../../tools/LocalRedis.psm1')
Import-Module (Join-Path $PSScriptRoot '../../tools/Pwsh.psm1')

function Start-TestRedis([string[]] $Arguments = @(), [string] $Password) {
    $server = Start-LocalRedis -Arguments ($Arguments + @(if ($Password) { '--requirepass', $Password }))
    try {
        $raw = [StackExchange.Redis.ConnectionMultiplexer]::Connect("$($server.Configuration),allowAdmin=true$(if ($Password) { ",password=$Password" })")
    } catch {
        Stop-LocalRedis $server # no server left behind when the test cannot use it
        throw
    }
    [pscustomobject]@{ Port = $server.Port; Configuration = $server.Configuration; Server = $server; Raw = $raw; Db = $raw.GetDatabase() }
}

function Stop-TestRedis($Redis) {
    if ($null -eq $Redis) { return }
    $Redis.Raw.Dispose()
    Stop-LocalRedis $Redis.Server
}

function ConvertFrom-Hex([string] $Hex) {
    [byte[]]($Hex -split '\s+' | Where-Object { $_ } | ForEach-Object { [Convert]::ToByte($_, 16) })
}

function ConvertTo-Hex([byte[]] $Bytes) { ($Bytes | ForEach-Object { $_.ToString('x2') }) -join ' ' }

function Get-QueueBytes($Redis, [string] $Key) {
    , @($Redis.Db.ListRange($Key) | ForEach-Object { , [byte[]]$_ })
}

function ConvertTo-RedisValue([byte[]] $Bytes) {
    [StackExchange.Redis.RedisValue].GetMethod('op_Implicit', [type[]]@([byte[]])).Invoke($null, @(, $Bytes))
}

function Push-RawTask($Redis, [string] $Queue, [byte[]] $Bytes) {
    $Redis.Db.ListRightPush($Queue, (ConvertTo-RedisValue $Bytes)) | Out-Null
    $Redis.Db.ListRightPush("${Queue}_noti", '1') | Out-Null
}

function Get-RedisKeys($Redis, [string] $Pattern = '*') {
    $reply = $Redis.Db.Execute('KEYS', $Pattern)
    $toStrings = [StackExchange.Redis.RedisResult].GetMethods() | Where-Object { $_.Name -eq 'op_Explicit' -and $_.ReturnType -eq [string[]] }
    [string[]]$toStrings.Invoke($null, @($reply))
}

function New-QueueName { 'q' + [Guid]::NewGuid().ToString('N').Substring(0, 12) }

function Start-PwshProcess {
    # A fresh pwsh running $Script with the module imported (unless -WithoutModule).
    param([string] $Script, [hashtable] $Environment = @{}, [switch] $WithoutModule)
    $import = if ($WithoutModule) { '' } else { "Import-Module '$env:DELAYED_MODULE'; " }
    Pwsh\Start-PwshProcess -Script "$import$Script" -Environment $Environment
}

# The first line of the process's output that matches $Pattern (a regular expression); throws after $Seconds.
function Wait-Match($Process, [string] $Pattern, [int] $Seconds = 60) {
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while ([DateTime]::UtcNow -lt $deadline) {
        $read = $Process.StandardOutput.ReadLineAsync()
        if (-not $read.Wait([TimeSpan]::FromSeconds([Math]::Max(1, ($deadline - [DateTime]::UtcNow).TotalSeconds)))) { break }
        $line = $read.Result
        if ($null -eq $line) { break }
        if ($line -match $Pattern) { return $line }
    }
    throw "The process did not print a line matching '$Pattern' within $Seconds s. stderr: $($Process.StandardError.ReadToEnd())"
}

# Waits until $Condition returns true; throws, naming what was awaited, after $Seconds.
function Wait-Until([scriptblock] $Condition, [string] $What, [int] $Seconds = 30, [scriptblock] $Details) {
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while (-not (& $Condition)) {
        # Details are read when the wait fails (e.g. what a terminal shows then), not when it begins.
        if ([DateTime]::UtcNow -gt $deadline) { throw "Waited $Seconds s for $What, in vain.$(if ($Details) { ' ' + (& $Details) })" }
        Start-Sleep -Milliseconds 20
    }
}

# How many clients wait in a blocking command (BLPOP) on the server now.
function Get-BlockedClients($Redis) {
    $info = "$($Redis.Db.Execute('INFO', [object[]]@('clients')))"
    [long](($info -split "`n" | Where-Object { $_ -like 'blocked_clients:*' }) -replace '^blocked_clients:', '').Trim()
}

function Wait-Line($Process, [string] $Prefix, [int] $Seconds = 60) { Wait-Match $Process ('^' + [regex]::Escape($Prefix)) $Seconds }

Export-ModuleMember -Function *
