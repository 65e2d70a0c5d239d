using System.Linq;
using System.Management.Automation;
using Delayed.Core.Scheduling;
using Delayed.PowerShell.Parameters;

namespace Delayed.PowerShell.Commands;

/// <summary>Lists a queue's recurring schedules: when each runs next, when it last ran and what that did.</summary>
/// <remarks>
/// Reads the schedules at one instant. NextRun and LastRun are local times with their offset, by the Redis server's
/// clock. LastOutcome says what the last run did: Enqueued, CaughtUp (missed while no worker or sweeper ran, run once
/// late) or Skipped (missed, let go under -MisfirePolicy Skip); how its task then ran is in the worker's log and, if
/// it failed, in Get-DelayedTask -Failed. The objects carry Register-DelayedSchedule's parameters by name: keep them in
/// a file and register them again elsewhere.
/// </remarks>
/// <example>
/// <code>Get-DelayedSchedule $queue</code>
/// <para>Every schedule of the queue.</para>
/// </example>
/// <example>
/// <code>Get-DelayedSchedule $queue nightly-* | Suspend-DelayedSchedule</code>
/// <para>Holds the nightly schedules, e.g. for a maintenance window.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DelayedSchedule")]
[OutputType(typeof(ScheduleInfo))]
public sealed class GetDelayedScheduleCommand : DelayedCmdlet
{
    private static readonly string[] AnyName = { "*" };

    /// <summary>The queue (a queue object, or a queue name on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    /// <summary>Names of the schedules to show; wildcards allowed. Default: all.</summary>
    [Parameter(Position = 1)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var patterns = (Name ?? AnyName).Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var status in Await(new RecurringScheduleStore(Queue.Engine).GetAsync(), Queue.Name))
            if (patterns.Any(p => p.IsMatch(status.Name))) WriteObject(new ScheduleInfo(Queue, status));
    }
}
