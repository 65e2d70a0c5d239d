using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Delayed.Examples;

/// <summary>Example handlers. Each writes what it did to a file, so that a test or a reader can see it.</summary>
public static class Maintenance
{
    /// <summary>Task "Delayed.Examples.Maintenance.Append" (the default name): appends a line to a file.</summary>
    [DelayedHandler]
    public static void Append(string path, string line) => File.AppendAllText(path, line + Environment.NewLine);

    /// <summary>Task "example:patch": a plain object argument, an optional one, and the worker's token.</summary>
    [DelayedHandler("example:patch")]
    public static async Task PatchAsync(Server server, string log, bool reboot = false, CancellationToken cancellationToken = default)
    {
        await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        File.AppendAllText(log, $"patched {server.Name}:{server.Port} [{string.Join(",", server.Tags)}] reboot={reboot}{Environment.NewLine}");
    }

    /// <summary>Task "example:hang": waits until the worker's token is cancelled (a stop, or -TaskTimeout).</summary>
    [DelayedHandler("example:hang")]
    public static async Task HangAsync(string marker, CancellationToken cancellationToken)
    {
        File.AppendAllText(marker, "started" + Environment.NewLine);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.AppendAllText(marker, "cancelled" + Environment.NewLine);
        }
    }

    /// <summary>Task "example:fail": always throws, to show retries.</summary>
    [DelayedHandler("example:fail")]
    public static void Fail(string path)
    {
        File.AppendAllText(path, "attempt" + Environment.NewLine);
        throw new InvalidOperationException("example failure");
    }

    /// <summary>Task "example:noop": does nothing (the benchmark's handler).</summary>
    [DelayedHandler("example:noop")]
    public static void NoOp()
    {
    }

    /// <summary>
    /// Task "example:disk": how much space is free where a path lives. What it returns is a tracked task's output:
    /// Add-DelayedTask $queue example:disk / -AsJob | Receive-Job -Wait.
    /// </summary>
    [DelayedHandler("example:disk")]
    public static async Task<DiskReport> DiskAsync(string path, CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        var drive = new DriveInfo(Path.GetFullPath(path));
        return new DiskReport(path, drive.AvailableFreeSpace, drive.TotalSize);
    }

    /// <summary>Task "example:add": a value returned at once.</summary>
    [DelayedHandler("example:add")]
    public static long Add(long a, long b) => a + b;

    /// <summary>Public, but not marked: no task can call it.</summary>
    public static void NotAHandler(string path) => File.WriteAllText(path, "must never run");
}
