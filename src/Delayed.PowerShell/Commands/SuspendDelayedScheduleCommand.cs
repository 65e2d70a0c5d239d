using System.Management.Automation;

namespace Delayed.PowerShell.Commands;

/// <summary>Holds recurring schedules: no run until Resume-DelayedSchedule.</summary>
/// <remarks>
/// A suspended schedule has no next run; its definition stays. Register-DelayedSchedule on it keeps it suspended.
/// Resuming goes on with the next run to come: runs that fell while suspended are not made up.
/// </remarks>
/// <example>
/// <code>Suspend-DelayedSchedule $queue nightly-patch</code>
/// <para>Holds the nightly patch run.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Suspend, "DelayedSchedule", SupportsShouldProcess = true)]
[OutputType(typeof(ScheduleInfo))]
public sealed class SuspendDelayedScheduleCommand : ScheduleCmdlet
{
    /// <summary>Writes the schedule as it is afterwards.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => SetSuspended(true, PassThru);
}
