using System;
using System.Collections.Generic;
using System.Management.Automation;
using Delayed.Core.Queue;
using Delayed.Core.Telemetry;
using Delayed.PowerShell.Parameters;

namespace Delayed.PowerShell.Commands;

/// <summary>A cmdlet that can serve Prometheus metrics while it runs: Start-DelayedWorker and Start-DelayedSweeper.</summary>
public abstract class MetricsServingCmdlet : DelayedCmdlet
{
    /// <summary>
    /// Serves Prometheus metrics at http://127.0.0.1:&lt;port&gt;/metrics while this runs: this process's task counts and
    /// durations, and the gauges of the queues read from Redis at scrape time (at most once a second). See about_Delayed's
    /// Monitoring section, or README's.
    /// </summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int? MetricsPort { get; set; }

    /// <summary>
    /// The address the metrics endpoint listens on (default 127.0.0.1, this machine only); '*' for every address. The
    /// endpoint has no authentication of its own: open it only to the network your Prometheus scrapes from.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string MetricsAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// Starts serving the Prometheus endpoint of -MetricsPort and -MetricsAddress for <paramref name="queues"/>, or
    /// nothing when no port is given; a port that cannot be listened on is a terminating error.
    /// </summary>
    private protected MetricsEndpoint? StartMetrics(IEnumerable<DelayedQueue> queues)
    {
        if (MetricsPort is not { } number) return null;
        try
        {
            var endpoint = MetricsEndpoint.Start(queues, MetricsAddress, number);
            WriteVerbose($"Serving metrics at {endpoint.Url}.");
            return endpoint;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            ThrowTerminatingError(new ErrorRecord(e, "MetricsPortUnavailable", ErrorCategory.ResourceUnavailable, number)
            {
                ErrorDetails = e is ArgumentException argument ? new ErrorDetails(ArgumentMessages.WithoutParameterName(argument)) : null,
            });
            return null; // not reached
        }
    }
}
