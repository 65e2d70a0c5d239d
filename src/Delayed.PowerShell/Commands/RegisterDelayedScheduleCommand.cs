using System;
using System.Collections;
using System.Linq;
using System.Management.Automation;
using Delayed.Core.Scheduling;
using Delayed.PowerShell.Conversion;
using Delayed.PowerShell.Parameters;

namespace Delayed.PowerShell.Commands;

/// <summary>Creates or updates a recurring schedule: a task enqueued at the times a cron expression gives.</summary>
/// <remarks>
/// The schedule lives in Redis, in extension keys of the queue, so every machine sees the same set. Every worker and
/// sweeper of this module fires due runs, within milliseconds of their time; each run enqueues exactly one task, however many of them run
/// at once on however many machines. The task is an ordinary task in the wire format, so a Go or Python worker can run
/// it; but only this module's workers and sweepers fire schedules: a queue served only by Go or Python workers needs
/// Start-DelayedSweeper for that.
///
/// Cron expressions and time zones are Cronos's: 5 fields (minute hour day-of-month month day-of-week), 6 with seconds
/// first, or a macro (@hourly, @daily, @weekly, @monthly, @yearly, @every_minute, @every_second). The expression is read
/// in -TimeZone (default: this machine's zone), with its daylight-saving rules: a time that does not exist on the night
/// the clocks go forward runs as they change (02:30 runs at 03:00); a time that comes twice when they go back runs
/// once, at the first. A run more than 5 seconds late (no worker or sweeper ran at its time) was missed: -MisfirePolicy
/// RunOnce (default) runs it once late, however many were missed; Skip lets it go. Either way the next run is the next
/// to come: never a burst.
///
/// Registering a name that exists updates that schedule (and keeps it suspended if it was); registering the same
/// definition again changes nothing, so a set of schedules kept in a file can be applied again and again. -WhatIf shows
/// the next runs.
/// </remarks>
/// <example>
/// <code>Register-DelayedSchedule $queue -Name nightly-patch -Cron '0 2 * * 1-5' -TimeZone Europe/Berlin -TaskName Patch-Server -ArgumentList web -Retry 2</code>
/// <para>Patches the web tier every weekday at 02:00 Berlin time.</para>
/// </example>
/// <example>
/// <code>Register-DelayedSchedule $queue -Name nightly-patch -Cron '0 2 * * 1-5' -TimeZone Europe/Berlin -TaskName Patch-Server -WhatIf</code>
/// <para>Shows the next runs without registering anything.</para>
/// </example>
/// <example>
/// <code>(Import-PowerShellDataFile ./schedules.psd1).Schedules | ForEach-Object { [pscustomobject]$_ } | Register-DelayedSchedule $queue</code>
/// <para>Applies a set of schedules kept in a file, e.g. @{ Schedules = @(@{ Name = 'report'; Cron = '@daily'; TaskName = 'Send-Report' }) }; unchanged ones stay as they are.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Register, "DelayedSchedule", SupportsShouldProcess = true)]
[OutputType(typeof(ScheduleInfo))]
public sealed class RegisterDelayedScheduleCommand : DelayedCmdlet
{
    /// <summary>The queue the runs go to (a queue object, or a queue name on the default server).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue Queue { get; set; } = null!;

    /// <summary>The schedule's name, unique in its queue; registering it again updates it.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>When it runs: a cron expression of 5 fields, 6 with seconds first, or a macro such as @daily.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Cron { get; set; } = "";

    /// <summary>The time zone the expression is read in, as an IANA id (Europe/Berlin) or a Windows id. Default: this machine's.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.TimeZoneCompleter))]
    public string? TimeZone { get; set; }

    /// <summary>The name of the task each run enqueues: the name a handler is registered under on the workers.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HandlerNameCompleter))]
    public string TaskName { get; set; } = "";

    /// <summary>Positional arguments for the handler, as Add-DelayedTask takes them.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Args")]
    [AllowNull, AllowEmptyCollection]
    public object?[]? ArgumentList { get; set; }

    /// <summary>Named parameters for the handler (Python format only).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    public IDictionary? Parameter { get; set; }

    /// <summary>How many more times a failing run is tried (Python format only).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public int Retry { get; set; }

    /// <summary>Python (default) or Go: which workers besides this module's can run the task.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public TaskFormat Format { get; set; } = TaskFormat.Python;

    /// <summary>What to do about runs missed while no worker or sweeper ran: RunOnce (default) or Skip.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public MisfirePolicy MisfirePolicy { get; set; } = MisfirePolicy.RunOnce;

    /// <summary>A run enqueues nothing while a task of the same key (its bytes, or -UniqueKey) was enqueued less than this ago, by this schedule or by Add-DelayedTask -UniqueFor.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public TimeSpan? UniqueFor { get; set; }

    /// <summary>The uniqueness key for -UniqueFor.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? UniqueKey { get; set; }

    protected override void ProcessRecord()
    {
        var bound = MyInvocation.BoundParameters;
        if (TaskBytes.FormatProblem(Format, bound.ContainsKey(nameof(Parameter)) && Parameter is { Count: > 0 }, bound.ContainsKey(nameof(Retry)) && Retry != 0) is { } problem)
        {
            WriteError(new ErrorRecord(new ArgumentException($"Schedule '{Name}' was not registered: {problem}"), "GoFormatParameter", ErrorCategory.InvalidArgument, Name));
            return;
        }
        RecurringSchedule schedule;
        try
        {
            var task = TaskBytes.Encode(TaskName, ArgumentList, Parameter, Retry, Format);
            var misfire = MisfirePolicy == MisfirePolicy.Skip ? Core.Scheduling.MisfirePolicy.Skip : Core.Scheduling.MisfirePolicy.RunOnce;
            schedule = RecurringSchedule.Create(Name, Cron, string.IsNullOrWhiteSpace(TimeZone) ? TimeZoneInfo.Local.Id : TimeZone!, task, misfire,
                uniqueFor: UniqueFor ?? TimeSpan.Zero, uniqueKey: string.IsNullOrEmpty(UniqueKey) ? null : UniqueKey);
        }
        catch (Exception e) when (ToErrorRecord(e, Name) is { } record)
        {
            WriteError(new ErrorRecord(new ArgumentException($"Schedule '{Name}' was not registered: {(e is ArgumentException a ? ArgumentMessages.WithoutParameterName(a) : e.Message)}", e),
                record.FullyQualifiedErrorId, record.CategoryInfo.Category, Name));
            return;
        }
        var store = new RecurringScheduleStore(Queue.Engine);
        var runs = schedule.NextTicks(DateTimeOffset.Now, 3).Select(t => t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss zzz", System.Globalization.CultureInfo.InvariantCulture));
        var action = $"Register: task '{TaskName}' at '{Cron}' ({schedule.TimeZone}); next runs {string.Join(", ", runs)}";
        if (!ShouldProcess($"Schedule '{Name}' of queue '{Queue.Name}' on {Queue.Redis}", action)) return;
        // Suspension is an operator's state, not part of the definition: an update keeps it.
        var existing = Await(store.GetAsync(), Name).FirstOrDefault(s => s.Name == Name);
        if (existing?.Schedule?.Suspended == true) schedule = schedule.WithSuspended(true);
        var outcome = Await(store.RegisterAsync(schedule), Name);
        WriteVerbose($"Schedule '{Name}' of queue '{Queue.Name}': {outcome}.");
        WriteObject(new ScheduleInfo(Queue, Await(store.GetAsync(), Name).First(s => s.Name == Name)));
    }
}
