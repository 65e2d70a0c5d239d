using System;
using Delayed.Core.Redis;

namespace Delayed.PowerShell.Reporting;

/// <summary>
/// How a loop that goes on by itself (a worker, a sweeper) reports a failure to reach Redis: one short warning line,
/// since the loop tries again, and the client's own text, which runs to a screenful of counters, with -Verbose.
/// </summary>
internal static class TransientFailure
{
    /// <summary>
    /// Whether <paramref name="error"/> is a connection failure, or a refusal the server lifts by itself (LOADING, BUSY:
    /// <see cref="Failures.IsTemporaryRefusal"/>); if so, it is reported as one.
    /// </summary>
    /// <param name="output">Where to say it.</param>
    /// <param name="what">What failed, e.g. "Sweeping queue 'jobs' failed".</param>
    /// <param name="error">The failure.</param>
    /// <param name="then">What happens next, as a sentence with a leading space (e.g. " Retrying in 2 s."), or "".</param>
    public static bool TryReport(IWorkerOutput output, string what, Exception error, string then)
    {
        if (Failures.Classify(error) is not (FailureKind.Unavailable or FailureKind.Unreachable) && !Failures.IsTemporaryRefusal(error)) return false;
        output.Warning($"{what}: {FirstClause(error.Message).TrimEnd('.')}.{then} (Details with -Verbose.)");
        output.Verbose($"{what}: {error.Message}");
        return true;
    }

    /// <summary>
    /// What the client said, without the screenful of counters StackExchange.Redis appends to its own messages (they end
    /// in its version, ", v: ..."), saying where the full report is; this module's own messages are kept whole.
    /// </summary>
    /// <param name="error">The failure.</param>
    /// <param name="fullReportIn">Where the reader finds the full report, e.g. "the error's Exception.InnerException"; null where it is nowhere to be read.</param>
    public static string Brief(Exception error, string? fullReportIn) => !error.Message.Contains(", v: ") ? error.Message
        : fullReportIn is null ? $"{FirstClause(error.Message)}."
        : $"{FirstClause(error.Message)}. (The client's full report: {fullReportIn}.)";

    /// <summary>A client error's message up to its first detail (a colon, semicolon or parenthesis), at most 160 characters.</summary>
    internal static string FirstClause(string message)
    {
        var end = message.Length;
        foreach (var mark in new[] { ": ", "; ", " (", ", command=" })
        {
            var at = message.IndexOf(mark, 10 < message.Length ? 10 : 0, StringComparison.Ordinal);
            if (at > 0 && at < end) end = at;
        }
        return message.Substring(0, Math.Min(end, 160)).TrimEnd('.', ' ');
    }
}
