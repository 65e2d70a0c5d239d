using System.Collections.Generic;
using System.Management.Automation;
using Delayed.PowerShell.Connections;
using Delayed.PowerShell.Parameters;

namespace Delayed.PowerShell.Commands;

/// <summary>
/// A cmdlet over the queues it is given, or, given none, over every queue of a server: Get-DelayedQueue,
/// Watch-DelayedQueue, Export-DelayedMetrics, Start-DelayedDashboard.
/// </summary>
public abstract class QueuesOrServerCmdlet : DelayedCmdlet
{
    private readonly List<Queue> _given = new();

    /// <summary>The queues (queue objects, or queue names on the default server). Default: every queue of the server.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [QueueTransformation]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public Queue[]? Queue { get; set; }

    /// <summary>The server whose queues to take when no queue is named. Default: $env:DELAYED_REDIS, else localhost:6379.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Redis { get; set; }

    /// <summary>Whether queues were named or piped in (none piped in is none, not all).</summary>
    private protected bool QueuesGiven => MyInvocation.ExpectingInput || MyInvocation.BoundParameters.ContainsKey(nameof(Queue));

    protected override void ProcessRecord()
    {
        if (Queue is not null) _given.AddRange(Queue);
    }

    /// <summary>The queues given, or, when none was, every queue of the server (found by SCAN, never KEYS).</summary>
    private protected IReadOnlyList<Queue> GivenOrAllQueues() => QueuesGiven ? _given : AllQueues(Redis);

    /// <summary>The server as shown (never with its password): that of the first queue given, else of -Redis or the default.</summary>
    private protected string ServerName(IReadOnlyList<Queue> queues)
    {
        if (queues.Count > 0) return queues[0].Redis;
        AllQueues(Redis); // connects, or stops with an error that says what to do
        return ConnectionCache.Get(Redis ?? ConnectionCache.DefaultConfiguration).DisplayName;
    }
}
