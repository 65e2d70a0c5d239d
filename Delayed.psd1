@{
    RootModule           = 'Delayed.PowerShell.dll'
    # Stamped from Directory.Build.props by build.ps1; keep them equal.
    ModuleVersion        = '0.1.0'
    GUID                 = '5d0f3c1e-9a47-4c2b-8e61-7f2a9b4d3c10'
    Author               = 'The Delayed authors'
    CompanyName          = 'The Delayed authors'
    Copyright            = '(c) The Delayed authors. MIT License.'
    Description          = 'A simple, robust Redis task queue for operations automation: enqueue work from scripts, run workers as jobs or services, inspect and fix stuck tasks. Wire-compatible with the Python and Go delayed task queues.'
    CompatiblePSEditions = @('Desktop', 'Core')
    PowerShellVersion    = '5.1'
    FormatsToProcess     = @('Delayed.Format.ps1xml')
    TypesToProcess       = @('Delayed.Types.ps1xml')
    CmdletsToExport      = @(
        'New-DelayedQueue'
        'Add-DelayedTask'
        'Register-DelayedHandler'
        'Get-DelayedHandler'
        'Unregister-DelayedHandler'
        'Start-DelayedWorker'
        'Start-DelayedSweeper'
        'Get-DelayedProcessing'
        'Get-DelayedQueue'
        'Get-DelayedTask'
        'Get-DelayedWorker'
        'Restore-DelayedTask'
        'Remove-DelayedTask'
        'Clear-DelayedQueue'
        'Stop-DelayedWorker'
        'Register-DelayedSchedule'
        'Get-DelayedSchedule'
        'Unregister-DelayedSchedule'
        'Suspend-DelayedSchedule'
        'Resume-DelayedSchedule'
        'Suspend-DelayedQueue'
        'Resume-DelayedQueue'
        'Export-DelayedMetrics'
        'Watch-DelayedQueue'
        'Start-DelayedDashboard'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS', 'Redis', 'Queue', 'Jobs')
            ReleaseNotes = 'First release: queues, tasks, workers with scriptblock, command and .NET handlers (concurrent slots, timeouts, jobs, JSON logs), sweeper; run later, retries with back-off, a bounded failed store; recurring schedules (cron, time zones), pausing a queue, one worker for several queues in priority order, unique tasks; inspection and repair of stuck tasks; TLS with private CAs and client certificates, Redis Sentinel, Redis Cluster with hash-tagged queue names; least-privilege Redis ACL examples; Prometheus metrics (-MetricsPort, Export-DelayedMetrics), a live view in the terminal (Watch-DelayedQueue), a web dashboard (Start-DelayedDashboard).'
        }
    }
}
