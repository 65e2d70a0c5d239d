using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using StackExchange.Redis;

namespace Delayed.Core.Redis;

/// <summary>
/// The enqueue as the module's own connections send it: MULTI, RPUSH of the tasks, RPUSH of one token each, EXEC (the
/// commands of the multiplexer's enqueue, so the task is never after its token), and what its reply says.
/// </summary>
internal static class EnqueueTransaction
{
    private static readonly byte[] Multi = Encoding.ASCII.GetBytes("MULTI");
    private static readonly byte[] Exec = Encoding.ASCII.GetBytes("EXEC");
    private static readonly byte[] RightPush = Encoding.ASCII.GetBytes("RPUSH");
    private static readonly byte[] TokenValue = { (byte)'1' };

    /// <summary>Enqueue replies are a few bytes; anything longer is not one.</summary>
    private const long MaxReplyBytes = 65536;

    /// <summary>Writes the transaction, unflushed.</summary>
    internal static void Write(Stream stream, byte[] tasksKey, byte[] tokensKey, IReadOnlyList<byte[]> tasks)
    {
        RespWire.WriteHeader(stream, '*', 1);
        RespWire.WriteBulk(stream, Multi);
        WritePushHead(stream, tasksKey, tasks.Count);
        for (var i = 0; i < tasks.Count; i++) RespWire.WriteBulk(stream, tasks[i]);
        WritePushHead(stream, tokensKey, tasks.Count);
        for (var i = 0; i < tasks.Count; i++) RespWire.WriteBulk(stream, TokenValue);
        RespWire.WriteHeader(stream, '*', 1);
        RespWire.WriteBulk(stream, Exec);
    }

    /// <summary>
    /// Reads the transaction's four replies: true once applied, false when the server answered a redirection (MOVED,
    /// ASK: nothing applied, the multiplexer knows where the keys are).
    /// </summary>
    /// <exception cref="RedisServerException">The server refused the transaction before running it (EXECABORT: nothing was
    /// applied), with its reason (OOM, READONLY, NOPERM, BUSY...); or a command of it failed as it ran (e.g. WRONGTYPE), as
    /// the multiplexer reports it.</exception>
    /// <exception cref="IOException">The connection failed or answered what is not an enqueue's reply: the transaction
    /// may or may not have been applied.</exception>
    internal static bool ReadReply(Stream stream)
    {
        // MULTI's +OK and two +QUEUED, or a refusal of one of them, which makes EXEC abort (below).
        RespError? refused = null;
        for (var i = 0; i < 3; i++)
        {
            if (RespWire.Read(stream, 0, MaxReplyBytes) is RespError error) refused ??= error;
        }
        if (stream.ReadByte() is var kind and not '*')
        {
            if (kind != '-') throw new InvalidDataException($"EXEC answered with byte {kind}, not an array.");
            // EXECABORT: nothing ran. The refusal is reported as the server gave it (OOM, READONLY, NOPERM, BUSY...): the
            // multiplexer's own transaction would report only "EXECABORT ... previous errors", or a read-only replica's as a
            // connection failure, as if the tasks might have been enqueued.
            var refusal = refused?.Text ?? RespWire.ReadLine(stream);
            if (refused is not null) RespWire.ReadLine(stream);
            if (refusal.StartsWith("MOVED ", StringComparison.Ordinal) || refusal.StartsWith("ASK ", StringComparison.Ordinal)) return false;
            throw new RedisServerException(refusal);
        }
        var count = RespWire.ReadNumber(stream);
        if (count != 2) throw new InvalidDataException($"EXEC answered {count} replies for 2 commands.");
        string? failed = null;
        for (var i = 0; i < count; i++)
        {
            if (RespWire.Read(stream, 1, MaxReplyBytes) is RespError error) failed ??= error.Text;
        }
        if (failed is not null) throw new RedisServerException(failed);
        return true;
    }

    /// <summary>
    /// What a caller whose enqueue was on its way when the connection failed is told: as the multiplexer tells it, that
    /// the tasks may or may not have been enqueued (never that they were not).
    /// </summary>
    internal static RedisConnectionException Doubtful(Exception cause, string why) =>
        new(ConnectionFailureType.SocketFailure, "The connection to Redis failed while a task was being enqueued; it may or may not have been enqueued: " + why, cause);

    /// <summary>RPUSH and its key, in a command of <paramref name="count"/> values to follow.</summary>
    private static void WritePushHead(Stream stream, byte[] key, int count)
    {
        RespWire.WriteHeader(stream, '*', 2 + count);
        RespWire.WriteBulk(stream, RightPush);
        RespWire.WriteBulk(stream, key);
    }
}
