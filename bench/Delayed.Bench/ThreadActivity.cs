using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

/// <summary>
/// What each thread of this process did over a run (Linux, /proc/self/task): how often it went to sleep and was woken
/// (voluntary context switches) and the CPU it used, printed under each figure when DELAYED_BENCH_THREADS=1. Shows the
/// hand-offs per task between threads that the rates alone only hint at (bench/README.md, nineteenth session).
/// </summary>
sealed class ThreadActivity
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("DELAYED_BENCH_THREADS") == "1" && Directory.Exists("/proc/self/task");
    private readonly Dictionary<string, (long Wakes, long Ticks)> _start = Enabled ? Read() : new();

    /// <summary>One line per thread that slept or ran during the run, most woken first; empty unless enabled.</summary>
    public string Report(int count)
    {
        if (!Enabled) return "";
        var report = new System.Text.StringBuilder();
        foreach (var (thread, wakes, ticks) in Read()
            .Select(t => (t.Key, t.Value.Wakes - _start.GetValueOrDefault(t.Key).Wakes, t.Value.Ticks - _start.GetValueOrDefault(t.Key).Ticks))
            .Where(t => t.Item2 > count / 100 || t.Item3 > 1)
            .OrderByDescending(t => t.Item2))
        {
            // Ticks are the kernel's clock ticks (10 ms at the usual 100 Hz).
            report.AppendLine(FormattableString.Invariant($"    thread {thread,-28} {(double)wakes / count,6:N2} wakes per task, {ticks * 10_000.0 / count,7:N2} µs CPU per task"));
        }
        return report.ToString();
    }

    private static Dictionary<string, (long Wakes, long Ticks)> Read()
    {
        var threads = new Dictionary<string, (long, long)>();
        foreach (var directory in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                // After the name in parentheses: field 14 (utime) and 15 (stime) of proc(5) are the 12th and 13th here.
                var fields = stat.Substring(stat.LastIndexOf(')') + 2).Split(' ');
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                var switches = File.ReadLines(Path.Combine(directory, "status")).First(l => l.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal));
                var wakes = long.Parse(switches.Substring(switches.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                threads[$"{Path.GetFileName(directory)} {File.ReadAllText(Path.Combine(directory, "comm")).Trim()}"] = (wakes, ticks);
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }
        return threads;
    }
}
