using System;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Delayed.PowerShell.Dashboard;
using Delayed.PowerShell.Connections;
using Delayed.PowerShell.Reporting;

namespace Delayed.PowerShell.Commands;

/// <summary>Serves a web dashboard of queues from this session, until Ctrl+C or Stop-Job.</summary>
/// <remarks>
/// Opens http://127.0.0.1:8080/ (or -Port, -Address): the queues with their counts and a chart of tasks started and
/// failed per minute over the last hour (sampled while the dashboard runs), and per queue its running tasks with their
/// workers (stuck ones marked), its workers, scheduled tasks, failed tasks with their errors, and recurring schedules.
/// No server software is needed. Read-only by default: -AllowActions adds buttons to restore, remove and retry failed
/// tasks and to pause and resume the queue, each confirmed in the page and carrying a secret made for this run, so
/// that no other site can make a browser act on it; nothing changes on GET. It listens on 127.0.0.1, this machine
/// only, unless -Address says otherwise; the dashboard has no authentication of its own, so anything wider belongs
/// behind a reverse proxy that authenticates. Task data, errors and names are shown as text, never as HTML. No page
/// shows the Redis password. Without a queue it shows every queue of the server (-Redis, else the default one), found
/// by SCAN, never KEYS, again each minute. Python and Go workers do not honour a pause, and their tasks are not in the
/// started rate.
/// </remarks>
/// <example>
/// <code>Start-DelayedDashboard</code>
/// <para>Every queue of the default server at http://127.0.0.1:8080/, read-only, until Ctrl+C.</para>
/// </example>
/// <example>
/// <code>$dashboard = Start-DelayedDashboard jobs, reports -Port 9000 -AllowActions -AsJob; Start-Process http://127.0.0.1:9000/</code>
/// <para>Two queues, with actions, in the background of this session; Stop-Job $dashboard ends it.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Start, "DelayedDashboard", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(Job))]
public sealed class StartDelayedDashboardCommand : QueuesOrServerCmdlet
{


    /// <summary>The TCP port. Default 8080.</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = 8080;

    /// <summary>
    /// The address to listen on. Default 127.0.0.1 (this machine only); '*' for every address. The dashboard has no
    /// authentication of its own: open it wider only behind a reverse proxy that authenticates.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Adds buttons that restore, remove and retry failed tasks and pause and resume queues (each confirmed, and only from this run's pages).</summary>
    [Parameter]
    public SwitchParameter AllowActions { get; set; }

    /// <summary>Time between the looks that feed the charts. Default 5 seconds.</summary>
    [Parameter]
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Runs the dashboard as a background job of this session and returns the job.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }


    protected override void EndProcessing()
    {
        if (SampleInterval < TimeSpan.FromSeconds(1))
            ThrowTerminatingError(new ErrorRecord(new ArgumentOutOfRangeException(nameof(SampleInterval), SampleInterval, $"The sample interval must be at least 1 second; it was {SampleInterval}."),
                "InvalidSampleInterval", ErrorCategory.InvalidArgument, SampleInterval) { ErrorDetails = new ErrorDetails($"The sample interval must be at least 1 second; it was {SampleInterval}.") });
        var given = QueuesGiven ? GivenOrAllQueues() : null;
        var redis = Redis ?? ConnectionCache.DefaultConfiguration;
        var server = ServerName(given ?? Array.Empty<Queue>());
        var what = given is not null ? $"queues {string.Join(", ", given.Select(q => q.Name))} on {server}" : $"every queue on {server}";
        if (!ShouldProcess($"http://{Address}:{Port}/", $"Serve a {(AllowActions ? "dashboard with actions" : "read-only dashboard")} of {what}")) return;
        if (Address is not ("127.0.0.1" or "localhost" or "::1"))
            WriteWarning($"The dashboard listens on {Address}: it has no authentication of its own. Anyone who reaches port {Port} sees the queues' tasks{(AllowActions ? " and can act on them" : "")}. Put it behind a reverse proxy that authenticates.");
        var dashboard = new DashboardServer(given, async () => QueueFactory.FromNames(await ConnectionCache.Get(redis).FindQueueNamesAsync("", int.MaxValue).ConfigureAwait(false), redis), server, Address, Port, AllowActions, SampleInterval);
        try
        {
            dashboard.Start();
        }
        catch (InvalidOperationException e)
        {
            dashboard.Dispose();
            ThrowTerminatingError(new ErrorRecord(e, "DashboardPortUnavailable", ErrorCategory.ResourceUnavailable, Port));
        }

        async Task RunAsync(IWorkerOutput output, CancellationToken stop)
        {
            try
            {
                await dashboard.RunAsync(output.Verbose, stop).ConfigureAwait(false);
            }
            finally
            {
                dashboard.Dispose();
            }
        }

        RunAsJobOrHere(AsJob, "Start-DelayedDashboard", given ?? Array.Empty<Queue>(), $"DelayedDashboard:{dashboard.Url}", RunAsync,
            $"Dashboard of {what} at {dashboard.Url}. Press Ctrl+C to stop.");
    }
}
