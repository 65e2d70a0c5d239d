using System;
using Delayed.PowerShell.Parameters;
using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Redis;
using Delayed.PowerShell.Connections;
using Delayed.PowerShell.Jobs;
using Delayed.PowerShell.Reporting;
using Delayed.PowerShell.Handlers;
using Delayed.PowerShell.Hosting;

namespace Delayed.PowerShell.Commands;

/// <summary>What every Delayed cmdlet shares: Ctrl+C as a cancellation token, and Redis errors as clear error records.</summary>
public abstract class DelayedCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Signalled by Ctrl+C (StopProcessing).</summary>
    protected CancellationToken StopToken => _stopping.Token;

    protected override void StopProcessing() => _stopping.Cancel();

    public void Dispose()
    {
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The tags of information written for the host to show (as Write-Host does).</summary>
    private protected static readonly string[] HostTags = { "PSHOST" };

    /// <summary>Waits for Redis on the pipeline thread, turning failures into terminating errors that say what to do.</summary>
    protected T Await<T>(Task<T> task, object? target = null)
    {
        Await((Task)task, target);
        return task.Result;
    }

    protected void Await(Task task, object? target = null)
    {
        try
        {
            task.GetAwaiter().GetResult();
        }
        catch (Exception e) when (ToErrorRecord(e, target) is { } record)
        {
            ThrowTerminatingError(record);
            throw; // not reached
        }
    }

    /// <summary>
    /// Every queue of a server (default: $env:DELAYED_REDIS, else localhost:6379), found by SCAN over their keys, never
    /// KEYS; a connection failure is a terminating error.
    /// </summary>
    private protected IReadOnlyList<Queue> AllQueues(string? redis)
    {
        redis ??= ConnectionCache.DefaultConfiguration;
        DelayedConnection connection;
        try
        {
            connection = ConnectionCache.Get(redis);
        }
        catch (Exception e) when (ToErrorRecord(e, redis) is { } record)
        {
            ThrowTerminatingError(record);
            throw; // not reached
        }
        return QueueFactory.FromNames(Await(connection.FindQueueNamesAsync("", int.MaxValue), redis), redis);
    }

    /// <summary>
    /// Runs <paramref name="run"/> as a background job of this session (returned to the pipeline), or here until it ends
    /// or Ctrl+C or SIGTERM stops it, its output pumped to this pipeline; <paramref name="startMessage"/> is shown first
    /// when it runs here. What Start-DelayedSweeper and Start-DelayedDashboard share (the worker adds stop notices).
    /// </summary>
    private protected void RunAsJobOrHere(bool asJob, string command, IEnumerable<Queue> queues, string jobName, Func<IWorkerOutput, CancellationToken, Task> run, string? startMessage)
    {
        if (asJob)
        {
            var job = new DelayedJob(command, queues, jobName, run);
            JobRepository.Add(job);
            job.Start();
            WriteObject(job);
            return;
        }
        if (startMessage is not null) WriteInformation(new HostInformationMessage { Message = startMessage }, HostTags);
        using var pump = new PipelinePump();
        using (StopSignals.Register(StopProcessing))
        {
            var running = run(new PipelineOutput(this, pump), StopToken);
            pump.Run(running);
            Await(running);
        }
    }

    /// <summary>An error record for the failures users can act on; null for anything else.</summary>
    internal static ErrorRecord? ToErrorRecord(Exception e, object? target)
    {
        if (Failures.TemporaryRefusal(e) is { } refusal)
            return new ErrorRecord(new InvalidOperationException(RefusedMessage(refusal), e), "RedisRefused", ErrorCategory.ResourceBusy, target);
        if (Failures.OutOfMemoryRefusal(e) is { } full)
            return new ErrorRecord(new InvalidOperationException(OutOfMemoryMessage(full), e), "RedisOutOfMemory", ErrorCategory.LimitsExceeded, target);
        if (Failures.ReadOnlyRefusal(e) is { } readOnly)
            return new ErrorRecord(new InvalidOperationException($"Redis refused to write: {ReadOnlyMessage(readOnly)}", e), "RedisReadOnlyReplica", ErrorCategory.InvalidOperation, target);
        return Failures.Classify(e) switch
        {
            FailureKind.Unreachable => new ErrorRecord(e, "RedisUnreachable", ErrorCategory.ConnectionError, target),
            FailureKind.Unavailable => new ErrorRecord(
                new InvalidOperationException("Redis did not answer: " + TransientFailure.Brief(e, "the error's Exception.InnerException") + " Check that the server is up; the connection recovers by itself once it is.", e),
                "RedisUnavailable", ErrorCategory.ConnectionError, target),
            FailureKind.ServerError => new ErrorRecord(e, "RedisError", ErrorCategory.InvalidOperation, target),
            FailureKind.InvalidData => new ErrorRecord(e, "NotPlainData", ErrorCategory.InvalidData, target),
            FailureKind.InvalidArgument => new ErrorRecord(e, "InvalidArgument", ErrorCategory.InvalidArgument, target)
            {
                ErrorDetails = new ErrorDetails(ArgumentMessages.WithoutParameterName((ArgumentException)e)),
            },
            _ => null,
        };
    }

    /// <summary>What a server at its memory limit refusing means, and how to make room.</summary>
    internal static string OutOfMemoryMessage(string refusal) =>
        $"Redis is out of memory and refuses to store more ({refusal.TrimEnd('.')}). The refused command did not run. Make room " +
        "(running workers drain the queues; Remove-DelayedTask deletes failed tasks no longer needed) or raise maxmemory. Keep " +
        "maxmemory-policy noeviction: under any other policy Redis makes room by deleting keys, tasks among them.";

    /// <summary>Why a read-only replica refused, and where to write instead (after "Redis refused ...: ").</summary>
    internal static string ReadOnlyMessage(string refusal) =>
        $"the server is a read-only replica ({refusal.TrimEnd('.')}). The refused command did not run. Give -Redis the primary's " +
        "address, or the sentinels' with -SentinelService (they name the primary, and the next one after a failover); a replica " +
        "serves only the cmdlets that read (Get-DelayedQueue, Get-DelayedTask, Get-DelayedWorker, Watch-DelayedQueue).";

    /// <summary>What a refusal the server lifts (LOADING, BUSY, ...) means to whoever ran the command.</summary>
    internal static string RefusedMessage(string refusal) =>
        $"Redis refused for now: {refusal.TrimEnd('.')}. The refused command did not run (what ran before it stands). " +
        "Run this again once Redis serves again: it does by itself, after loading its data, or once the script that holds it ends or is killed (SCRIPT KILL).";
}
