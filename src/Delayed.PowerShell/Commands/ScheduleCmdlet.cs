using System;
using System.Linq;
using System.Management.Automation;
using Delayed.Core.Scheduling;
using Delayed.PowerShell.Parameters;

namespace Delayed.PowerShell.Commands;

/// <summary>What the cmdlets that act on named recurring schedules share: the queue, the names, and finding them.</summary>
public abstract class ScheduleCmdlet : DelayedCmdlet
{
    /// <summary>The queue whose schedules these are (a queue object, or a queue name on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    /// <summary>The schedules' names.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = Array.Empty<string>();

    private protected RecurringScheduleStore Store => new(Queue.Engine);

    /// <summary>The schedule of that name as stored now; an error record (not found) when there is none.</summary>
    private protected ScheduleStatus? Find(string name)
    {
        var found = Await(Store.GetAsync(), name).FirstOrDefault(s => s.Name == name);
        if (found is null)
        {
            WriteError(new ErrorRecord(new ItemNotFoundException(
                $"Queue '{Queue.Name}' on {Queue.Redis} has no schedule named '{name}'. Get-DelayedSchedule lists its schedules."),
                "ScheduleNotFound", ErrorCategory.ObjectNotFound, name));
        }
        return found;
    }

    /// <summary>The schedule's definition, or an error record when it does not read on this machine.</summary>
    private protected RecurringSchedule? Definition(ScheduleStatus status)
    {
        if (status.Schedule is null)
            WriteError(new ErrorRecord(new InvalidOperationException(status.Problem), "ScheduleUnreadable", ErrorCategory.InvalidData, status.Name));
        return status.Schedule;
    }

    /// <summary>Suspends or resumes each named schedule (Suspend- and Resume-DelayedSchedule).</summary>
    private protected void SetSuspended(bool suspended, bool passThru)
    {
        foreach (var name in Name)
        {
            if (Find(name) is not { } status || Definition(status) is not { } schedule) continue;
            if (!ShouldProcess($"Schedule '{name}' of queue '{Queue.Name}' on {Queue.Redis}", suspended ? "Suspend" : "Resume")) continue;
            if (schedule.Suspended != suspended) Await(Store.RegisterAsync(schedule.WithSuspended(suspended)), name);
            else WriteVerbose($"Schedule '{name}' is {(suspended ? "suspended" : "running")} already.");
            if (passThru && Await(Store.GetAsync(), name).FirstOrDefault(s => s.Name == name) is { } now) WriteObject(new ScheduleInfo(Queue, now));
        }
    }
}
