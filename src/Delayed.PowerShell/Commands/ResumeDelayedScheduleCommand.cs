using System.Management.Automation;

namespace Delayed.PowerShell.Commands;

/// <summary>Lets suspended recurring schedules run again, from their next run to come.</summary>
/// <remarks>
/// The next run is the first after now: runs that fell while the schedule was suspended are not made up. Resuming a
/// schedule that runs already changes nothing.
/// </remarks>
/// <example>
/// <code>Get-DelayedSchedule $queue | Where-Object Suspended | Resume-DelayedSchedule -PassThru</code>
/// <para>Resumes every suspended schedule of the queue and shows their next runs.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Resume, "DelayedSchedule", SupportsShouldProcess = true)]
[OutputType(typeof(ScheduleInfo))]
public sealed class ResumeDelayedScheduleCommand : ScheduleCmdlet
{
    /// <summary>Writes the schedule as it is afterwards.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => SetSuspended(false, PassThru);
}
