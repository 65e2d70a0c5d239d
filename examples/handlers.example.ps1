# The handlers a worker service loads (dot-sourced before Start-DelayedWorker). Only these names ever run.
Register-DelayedHandler -Name 'Restart-Site' -ScriptBlock {
    param([Parameter(Mandatory)] [string] $Server, [switch] $Force)
    Write-Verbose "Restarting $Server"
}
# .NET handlers: every method marked [DelayedHandler] in the assembly.
# Register-DelayedHandler -AssemblyPath /opt/delayed/Ops.Handlers.dll
