using System;
using System.Collections.Generic;
using Delayed.Core.Codec;
using MessagePack;

namespace Delayed.Core.Queue;

/// <summary>What a worker of this implementation records about itself at registration (extension key N_workers).</summary>
public sealed class WorkerDescription
{
    public WorkerDescription(string host, int processId, DateTimeOffset startedAt, int keepAliveSeconds, IReadOnlyList<string>? queues = null)
    {
        Queues = queues ?? Array.Empty<string>();
        Host = host;
        ProcessId = processId;
        StartedAt = startedAt;
        KeepAliveSeconds = keepAliveSeconds;
    }

    public string Host { get; }
    public int ProcessId { get; }
    public DateTimeOffset StartedAt { get; }

    /// <summary>The TTL the worker gives its liveness key; with the remaining TTL it tells when it last refreshed.</summary>
    public int KeepAliveSeconds { get; }

    /// <summary>
    /// The queues a worker of several queues serves, in its order, so that a stop asked through one of them reaches it
    /// through all (Stop-DelayedWorker); empty for a worker of one queue.
    /// </summary>
    public IReadOnlyList<string> Queues { get; }

    /// <summary>Why the entry could not be read, for an entry this implementation did not write; null for a good one.</summary>
    public string? Problem { get; private set; }

    private static WorkerDescription Unreadable(string problem) =>
        new("?", 0, DateTimeOffset.MinValue, 0) { Problem = problem };

    /// <summary>For a worker of this process.</summary>
    public static WorkerDescription OfThisProcess(int keepAliveSeconds, IReadOnlyList<string>? queues = null)
    {
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return new WorkerDescription(Environment.MachineName, process.Id, DateTimeOffset.UtcNow, keepAliveSeconds, queues is { Count: > 1 } ? queues : null);
    }

    /// <summary>A MessagePack map: plain data that any tool can read.</summary>
    internal byte[] Serialize()
    {
        var buffer = new ByteBufferWriter(64);
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(Queues.Count > 0 ? 5 : 4);
        writer.Write("host");
        writer.Write(Host);
        writer.Write("pid");
        writer.Write(ProcessId);
        writer.Write("started");
        writer.Write(StartedAt.ToUnixTimeMilliseconds());
        writer.Write("ttl");
        writer.Write(KeepAliveSeconds);
        if (Queues.Count > 0)
        {
            writer.Write("queues");
            writer.WriteArrayHeader(Queues.Count);
            foreach (var queue in Queues) writer.Write(queue);
        }
        writer.Flush();
        return buffer.ToArray();
    }

    /// <summary>
    /// Null without bytes; for bytes that are not a description this implementation wrote, or hold values out of
    /// range, an entry that says so (<see cref="Problem"/>): one bad entry never hides the others.
    /// </summary>
    internal static WorkerDescription? TryParse(byte[]? bytes)
    {
        if (bytes is null) return null;
        try
        {
            var reader = new MessagePackReader(bytes);
            if (PlainDataReader.Read(ref reader, PlainDataLimits.Default) is not Dictionary<object, object?> map) return Unreadable("not a map");
            if (!(map.TryGetValue("host", out var host) && host is string hostName
                && map.TryGetValue("pid", out var pid) && pid is long processId and >= 0 and <= int.MaxValue
                && map.TryGetValue("started", out var started) && started is long startedMs
                && map.TryGetValue("ttl", out var ttl) && ttl is long ttlSeconds and >= 0 and <= int.MaxValue))
                return Unreadable("a field is missing, of the wrong type or out of range (host, pid, started, ttl)");
            if (startedMs is < MinUnixMs or > MaxUnixMs) return Unreadable($"its start time ({startedMs} ms) is out of range");
            List<string>? queues = null;
            if (map.TryGetValue("queues", out var listed))
            {
                if (listed is not object?[] names || Array.Exists(names, n => n is not string)) return Unreadable("its queues are not a list of names");
                queues = new List<string>(Array.ConvertAll(names, n => (string)n!));
            }
            return new WorkerDescription(hostName, (int)processId, DateTimeOffset.FromUnixTimeMilliseconds(startedMs), (int)ttlSeconds, queues);
        }
        catch (Exception e) when (e is MessagePackSerializationException or PlainDataException or System.IO.EndOfStreamException)
        {
            return Unreadable("not MessagePack: " + e.Message);
        }
    }

    // The range DateTimeOffset can hold.
    internal const long MinUnixMs = -62_135_596_800_000, MaxUnixMs = 253_402_300_799_999;
}
