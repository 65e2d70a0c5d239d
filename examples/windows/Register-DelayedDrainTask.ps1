<#
.SYNOPSIS
    Registers a Windows scheduled task that drains a Delayed queue every 5 minutes.
.DESCRIPTION
    The task runs `Start-DelayedWorker <queue> -StopWhenEmpty`: it takes the tasks that are waiting, runs them with
    the handlers that the handlers script registers, and exits. Set the Redis configuration (with its password) in
    the machine environment variable DELAYED_REDIS rather than in the task's command line. Run elevated.
.EXAMPLE
    ./Register-DelayedDrainTask.ps1 -Queue jobs -HandlersScript C:\Delayed\handlers.ps1 -User 'CONTOSO\svc-delayed'
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $Queue,
    [Parameter(Mandatory)] [string] $HandlersScript,
    [string] $User = 'NT AUTHORITY\SYSTEM',
    [TimeSpan] $Every = (New-TimeSpan -Minutes 5),
    [string] $TaskName = "Delayed drain $Queue"
)
$ErrorActionPreference = 'Stop'
# No PowerShell 7-only syntax here: this script runs under Windows PowerShell 5.1 as well.
$pwsh = Get-Command pwsh.exe -ErrorAction SilentlyContinue | Select-Object -First 1 -ExpandProperty Source
if (-not $pwsh) { $pwsh = (Get-Command powershell.exe).Source } # Windows PowerShell 5.1 runs Delayed too
function ConvertTo-Literal([string] $Text) { "'" + $Text.Replace("'", "''") + "'" }
$command = "Import-Module Delayed; . $(ConvertTo-Literal $HandlersScript); Start-DelayedWorker $(ConvertTo-Literal $Queue) -StopWhenEmpty -LogFormat Json"
# On the command line, a double quote inside the quoted -Command is written \".
$action = New-ScheduledTaskAction -Execute $pwsh -Argument "-NoProfile -NonInteractive -Command `"$($command.Replace('"', '\"'))`""
$trigger = New-ScheduledTaskTrigger -Once -At (Get-Date) -RepetitionInterval $Every
# One run at a time; a run still busy when the next is due is left alone.
$settings = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew -ExecutionTimeLimit (New-TimeSpan -Hours 1) -StartWhenAvailable
if ($PSCmdlet.ShouldProcess($TaskName, 'Register scheduled task')) {
    Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $trigger -Settings $settings -User $User -RunLevel Limited -Force
}
