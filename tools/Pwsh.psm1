# Starting "a pwsh like this one": for build.ps1, the demo and the tests. The repository's PowerShell is a
# local .NET tool, which runs as 'dotnet pwsh.dll'; an installed pwsh runs as itself.
Set-StrictMode -Version 3

function Get-PwshCommand {
    # The program and the leading arguments that start a fresh pwsh of the same version as this one.
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') { return @($process, (Join-Path $PSHOME 'pwsh.dll')) }
    return @($process)
}

function Start-PwshProcess {
    # A fresh pwsh running $Script, with standard output and error readable by the caller.
    param([Parameter(Mandatory)] [string] $Script, [hashtable] $Environment = @{})
    $pwsh = @(Get-PwshCommand)
    $start = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
    foreach ($a in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $Script)) { $start.ArgumentList.Add($a) }
    foreach ($key in $Environment.Keys) { $start.Environment[$key] = [string]$Environment[$key] }
    $start.RedirectStandardOutput = $true
    $start.RedirectStandardError = $true
    $start.UseShellExecute = $false
    [System.Diagnostics.Process]::Start($start)
}

Export-ModuleMember -Function Get-PwshCommand, Start-PwshProcess
