using System;
using System.Management.Automation;
using Delayed.PowerShell.Hosting;

namespace Delayed.PowerShell.Commands;

/// <summary>Connects to a Redis server and returns a queue object.</summary>
/// <remarks>
/// A queue is named by a string and lives in three Redis keys: the task list (the name itself), the token list
/// (name_noti) and the in-flight hash (name_processing), the layout the Python and Go implementations of the
/// delayed protocol use. Workers of any of the three implementations can share a queue, one worker language per queue.
/// Connections are shared by configuration string within the process and reconnect by themselves. The queue
/// object shows the server's endpoint, never a password. An unreachable server is a terminating error that names the endpoint.
/// </remarks>
/// <example>
/// <code>$queue = New-DelayedQueue -Name jobs</code>
/// <para>A queue named jobs on $env:DELAYED_REDIS, or on localhost:6379 when that variable is not set.</para>
/// </example>
/// <example>
/// <code>$queue = New-DelayedQueue jobs -Redis 'rediss://ops:s3cret@redis01:6380/2'</code>
/// <para>A queue in database 2 of a server reached over TLS, as user ops: the URL form that rq, Sidekiq and BullMQ users know.</para>
/// </example>
/// <example>
/// <code>$queue = New-DelayedQueue jobs -Redis 'redis01:6379,password=secret,ssl=true' -KeepAliveTimeout (New-TimeSpan -Seconds 30)</code>
/// <para>A queue on a server that needs a password and TLS, whose workers refresh a 30-second liveness key.</para>
/// </example>
[Cmdlet(VerbsCommon.New, "DelayedQueue")]
[OutputType(typeof(Queue))]
public sealed class NewDelayedQueueCommand : DelayedCmdlet
{
    /// <summary>The queue's name; its keys are the name, the name + "_noti" and the name + "_processing".</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.QueueNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>
    /// A StackExchange.Redis configuration string such as 'host:6379,password=…,ssl=true,defaultDatabase=1', or a Redis
    /// URL such as 'redis://user:password@host:6379/1' ('rediss://' for TLS; percent-encode any @ : / % or , in the user
    /// name or password). Default: $env:DELAYED_REDIS, else localhost:6379.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Redis { get; set; }

    /// <summary>How long an idle worker blocks waiting for a task before it checks for a stop request. Default 1 second.</summary>
    [Parameter]
    public TimeSpan? DequeueTimeout { get; set; }

    /// <summary>Time to live of a worker's liveness key; a worker silent for longer is taken for dead and its task is recovered by the sweeper. Default 60 seconds.</summary>
    [Parameter]
    public TimeSpan? KeepAliveTimeout { get; set; }

    /// <summary>
    /// Most tasks the queue's failed store keeps, the oldest trimmed first; 0 keeps none (failures are then only
    /// reported). Applies to the workers and sweepers that use this queue object. Default 10,000.
    /// </summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int FailedTaskLimit { get; set; } = 10_000;

    /// <summary>How long the failed store keeps a task. Default 7 days.</summary>
    [Parameter]
    public TimeSpan FailedTaskRetention { get; set; } = TimeSpan.FromDays(7);

    protected override void ProcessRecord()
    {
        try
        {
            var queue = QueueFactory.Create(Name, Redis ?? ConnectionCache.DefaultConfiguration, DequeueTimeout, KeepAliveTimeout);
            queue.Engine.FailedTaskLimit = FailedTaskLimit;
            queue.Engine.FailedTaskRetention = FailedTaskRetention;
            WriteObject(queue);
        }
        catch (Exception e) when (ToErrorRecord(e, Name) is { } record)
        {
            ThrowTerminatingError(record);
        }
    }
}
