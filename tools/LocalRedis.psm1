# A throwaway redis-server on 127.0.0.1 and a free port, without persistence: for the demo, the benchmark
# and the tests, which never rely on a server that was already running.
Set-StrictMode -Version 3

function Start-LocalRedis {
    # -Arguments: more redis-server options, e.g. '--aclfile', '/tmp/users.acl'.
    # -Tls: the port speaks only TLS, set up by the --tls-* options in -Arguments.
    # -Port: this port rather than a free one (a server started again where a stopped one was).
    [CmdletBinding()]
    param([string[]] $Arguments = @(), [switch] $Tls, [int] $Port)
    if (-not (Get-Command redis-server -ErrorAction SilentlyContinue)) {
        throw 'redis-server is not on PATH. Install it (Debian/Ubuntu: sudo apt-get install redis-server) and run this again.'
    }
    if ($Port) { $port = $Port } else {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        $port = $listener.LocalEndpoint.Port
        $listener.Stop()
    }
    $start = [System.Diagnostics.ProcessStartInfo]::new('redis-server')
    $ports = if ($Tls) { @('--port', 0, '--tls-port', $port) } else { @('--port', $port) }
    # A directory of its own: nothing a server writes (a replica's sync) is loaded by a later one.
    $directory = Join-Path ([IO.Path]::GetTempPath()) "delayed-redis-$([Guid]::NewGuid().ToString('N'))"
    $null = New-Item $directory -ItemType Directory
    foreach ($a in $ports + @('--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning', '--dir', $directory) + $Arguments) { $start.ArgumentList.Add([string]$a) }
    $start.RedirectStandardOutput = $true # its start-up banner is noise here
    $start.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($start)
    $null = $process.StandardOutput.ReadToEndAsync()
    $deadline = [DateTime]::UtcNow.AddSeconds(10)
    while ([DateTime]::UtcNow -lt $deadline) {
        if ($process.HasExited) { throw "redis-server exited with code $($process.ExitCode) on start." }
        try {
            ([System.Net.Sockets.TcpClient]::new('127.0.0.1', $port)).Dispose()
            return [pscustomobject]@{ Port = $port; Configuration = "127.0.0.1:$port"; Process = $process; Directory = $directory }
        } catch [System.Net.Sockets.SocketException] { Start-Sleep -Milliseconds 50 }
    }
    $process.Kill()
    throw "redis-server did not listen on port $port within 10 seconds."
}

function Stop-LocalRedis {
    [CmdletBinding()]
    param($Server)
    if ($null -ne $Server -and -not $Server.Process.HasExited) {
        $Server.Process.Kill()
        $null = $Server.Process.WaitForExit(5000)
    }
    if ($null -ne $Server -and $Server.PSObject.Properties['Directory']) { Remove-Item $Server.Directory -Recurse -Force -ErrorAction Ignore }
}

Export-ModuleMember -Function Start-LocalRedis, Stop-LocalRedis
