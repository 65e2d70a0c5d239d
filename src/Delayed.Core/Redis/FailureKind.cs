using System;
using Delayed.Core.Codec;
using StackExchange.Redis;

namespace Delayed.Core.Redis;

/// <summary>What kind of failure an exception of the engine is, so hosts can report it without knowing Redis client types.</summary>
public enum FailureKind
{
    /// <summary>Not one of the kinds below.</summary>
    Other,

    /// <summary>The server could not be reached at the first connect.</summary>
    Unreachable,

    /// <summary>The connection failed or a command timed out; the client reconnects by itself.</summary>
    Unavailable,

    /// <summary>The server refused a command.</summary>
    ServerError,

    /// <summary>A value is not plain task data, or a task is malformed.</summary>
    InvalidData,

    /// <summary>An argument was refused.</summary>
    InvalidArgument,
}

/// <summary>Classifies engine exceptions into <see cref="FailureKind"/>.</summary>
public static class Failures
{
    public static FailureKind Classify(Exception e) => e switch
    {
        DelayedConnectionException => FailureKind.Unreachable,
        RedisConnectionException or RedisTimeoutException => FailureKind.Unavailable,
        RedisServerException => FailureKind.ServerError,
        PlainDataException or MalformedTaskException => FailureKind.InvalidData,
        ArgumentException => FailureKind.InvalidArgument,
        _ => FailureKind.Other,
    };

    /// <summary>
    /// Whether the server refused a command because it cannot serve now, and will again by itself: it loads its data
    /// after a restart (LOADING), a script runs past its time (BUSY), a replica lost its primary (MASTERDOWN), a cluster
    /// moves or misses slots (TRYAGAIN, CLUSTERDOWN). Nothing the command asked for happened; a loop waits it out as an
    /// outage.
    /// </summary>
    public static bool IsTemporaryRefusal(Exception e) => TemporaryRefusal(e) is not null;

    /// <summary>Whether the server did not answer (or could not be reached): not a refusal, nothing it said.</summary>
    public static bool IsOutOfReach(Exception e) => Classify(e) is FailureKind.Unavailable or FailureKind.Unreachable;

    /// <summary>
    /// The server's words when <see cref="IsTemporaryRefusal"/>, also when they refused a command of a transaction, which
    /// the server reports as "EXECABORT Transaction discarded because of: ..."; otherwise null.
    /// </summary>
    public static string? TemporaryRefusal(Exception e)
    {
        if (e is not RedisServerException { Message: var message }) return null;
        message = WithoutDiscardNote(message);
        return Array.Exists(TemporaryRefusals, prefix => message.StartsWith(prefix, StringComparison.Ordinal)) ? message : null;
    }

    private static readonly string[] TemporaryRefusals = { "LOADING ", "BUSY ", "MASTERDOWN ", "TRYAGAIN ", "CLUSTERDOWN " };

    /// <summary>
    /// The server's words when it refused to write because it is a read-only replica (READONLY), also inside a
    /// transaction; otherwise null. Nothing the command asked for happened; only another server (the primary) will take it.
    /// </summary>
    public static string? ReadOnlyRefusal(Exception e)
    {
        if (e is not RedisServerException { Message: var message }) return null;
        message = WithoutDiscardNote(message);
        return message.StartsWith("READONLY ", StringComparison.Ordinal) ? message : null;
    }

    /// <summary>
    /// The server's words when it refused to store more because it reached its memory limit (OOM, under the policy
    /// noeviction), also inside a transaction; otherwise null.
    /// </summary>
    public static string? OutOfMemoryRefusal(Exception e)
    {
        if (e is not RedisServerException { Message: var message }) return null;
        message = WithoutDiscardNote(message);
        return message.StartsWith("OOM ", StringComparison.Ordinal) ? message : null;
    }

    private static string WithoutDiscardNote(string message)
    {
        const string Discarded = "EXECABORT Transaction discarded because of: ";
        return message.StartsWith(Discarded, StringComparison.Ordinal) ? message.Substring(Discarded.Length) : message;
    }

    /// <summary>
    /// Whether a failed call certainly never reached the server (it waited in the client for a connection, or no server
    /// was reachable at all), so nothing it asked for happened; false when it may have been sent and its reply was lost
    /// (a timeout after sending, a connection that broke mid-call), and for failures of other kinds.
    /// </summary>
    public static bool NeverSent(Exception e) => e switch
    {
        DelayedConnectionException => true,
        RedisConnectionException { CommandStatus: CommandStatus.WaitingToBeSent or CommandStatus.WaitingInBacklog } => true,
        RedisTimeoutException { Commandstatus: CommandStatus.WaitingToBeSent or CommandStatus.WaitingInBacklog } => true,
        _ => false,
    };
}
