using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;

/// <summary>
/// Runs the Go stand-in (bench/go-standin: the Go implementation's commands through redigo, written from the protocol's
/// description) as one or more processes against the benchmark's server, and measures them as they measure themselves:
/// from the first command any of them sent to the last task any of them finished, so that starting a process is not
/// counted. <c>./build.ps1 bench -Go</c> builds it and names it in DELAYED_GO_STANDIN.
/// </summary>
sealed class GoStandIn
{
    private readonly string _binary;
    private readonly int _port;

    public GoStandIn(string binary, int port)
    {
        _binary = binary;
        _port = port;
    }

    /// <summary>The stand-in built by build.ps1, or null when it was not (then the Go comparison cannot run).</summary>
    public static string? Built => Environment.GetEnvironmentVariable("DELAYED_GO_STANDIN") is { Length: > 0 } path && System.IO.File.Exists(path) ? path : null;

    /// <summary>One enqueuer sending <paramref name="count"/> tasks one at a time.</summary>
    public Run Enqueue(string queue, int count) => Run("enqueue", queue, 1, count);

    /// <summary><paramref name="processes"/> workers of one goroutine each draining the queue, which holds <paramref name="count"/> tasks.</summary>
    public Run Drain(string queue, int processes, int count) => Run("drain", queue, processes, count);

    private Run Run(string mode, string queue, int processes, int count)
    {
        var started = new List<Process>();
        try
        {
            for (var i = 0; i < processes; i++)
            {
                var info = new ProcessStartInfo(_binary)
                {
                    RedirectStandardInput = true,
                    RedirectStandardOutput = true,
                    UseShellExecute = false,
                };
                foreach (var argument in new[] { "-mode", mode, "-addr", $"127.0.0.1:{_port}", "-queue", queue, "-count", count.ToString(CultureInfo.InvariantCulture), "-id", $"{queue}_go{i}" })
                    info.ArgumentList.Add(argument);
                started.Add(Process.Start(info) ?? throw new InvalidOperationException($"{_binary} did not start."));
            }
            foreach (var process in started)
            {
                var line = process.StandardOutput.ReadLine();
                if (line != "ready") throw new InvalidOperationException($"The Go stand-in said '{line}' instead of ready (is Redis up?).");
            }
            foreach (var process in started) process.StandardInput.WriteLine();
            long tasks = 0, first = long.MaxValue, last = long.MinValue, cpu = 0, userCpu = 0;
            foreach (var process in started)
            {
                var fields = (process.StandardOutput.ReadLine() ?? throw new InvalidOperationException("The Go stand-in ended without a result."))
                    .Split(' ').Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
                tasks += fields[0];
                first = Math.Min(first, fields[1]);
                last = Math.Max(last, fields[2]);
                cpu += fields[3];
                userCpu += fields[4];
                process.WaitForExit();
                if (process.ExitCode != 0) throw new InvalidOperationException($"The Go stand-in exited with {process.ExitCode}.");
            }
            if (tasks != count) throw new InvalidOperationException($"The Go stand-in's {mode} did {tasks} of {count} tasks.");
            return new Run(count / ((last - first) / 1e9), double.NaN, (double)cpu / count, (double)userCpu / count);
        }
        finally
        {
            foreach (var process in started)
            {
                if (!process.HasExited) process.Kill();
                process.Dispose();
            }
        }
    }
}
