using System.Management.Automation;

namespace Delayed.PowerShell.Commands;

/// <summary>Deletes recurring schedules; tasks their runs already enqueued stay in the queue.</summary>
/// <remarks>
/// Deletes the definition, the next run and the record of the last run, at once. Asks for confirmation (ConfirmImpact
/// High); -Confirm:$false skips it. A name that is not there is an error that says so. Takes input from Get-DelayedSchedule.
/// </remarks>
/// <example>
/// <code>Unregister-DelayedSchedule $queue nightly-patch</code>
/// <para>Deletes one schedule, after confirming.</para>
/// </example>
/// <example>
/// <code>Get-DelayedSchedule $queue test-* | Unregister-DelayedSchedule -Confirm:$false</code>
/// <para>Deletes every schedule whose name starts with test-.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Unregister, "DelayedSchedule", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
public sealed class UnregisterDelayedScheduleCommand : ScheduleCmdlet
{
    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            if (Find(name) is not { } status) continue;
            var what = status.Schedule is { } schedule ? $" (task '{Conversion.TaskView.Of(schedule.Task).Name}' at '{schedule.Cron}')" : "";
            if (!ShouldProcess($"Schedule '{name}'{what} of queue '{Queue.Name}' on {Queue.Redis}", "Unregister")) continue;
            if (!Await(Store.UnregisterAsync(name), name)) Find(name); // gone meanwhile: say so
        }
    }
}
