using System;
using System.Management.Automation;
using Delayed.Core.Redis;

namespace Delayed.PowerShell.Reporting;

/// <summary>
/// How a loop that goes on by itself (a worker, a sweeper) reports a failure to reach Redis, or a refusal the server
/// lifts by itself: one short warning line when an outage begins, since the loop tries again (a reminder once a minute,
/// a word when Redis answers again), and the client's own text, which runs to a screenful of counters, with -Verbose.
/// </summary>
internal static class TransientFailure
{
    /// <summary>
    /// Whether <paramref name="error"/> is a connection failure, a refusal the server lifts by itself (LOADING, BUSY:
    /// <see cref="Failures.IsTemporaryRefusal"/>), or a full server's refusal to store more (OOM: it lasts until room is
    /// made, and the loop goes on then); if so, it is reported as one: a warning when an outage begins (and,
    /// with <paramref name="outage"/>, again once a minute while it lasts), the client's whole report with -Verbose.
    /// </summary>
    /// <param name="output">Where to say it.</param>
    /// <param name="what">What failed, e.g. "Sweeping queue 'jobs' failed".</param>
    /// <param name="error">The failure.</param>
    /// <param name="then">What happens next, as a sentence with a leading space (e.g. " The next pass tries again."), or "".</param>
    /// <param name="outage">The loop's outage so far, for a loop that goes on failing while it lasts; null: every failure is said.</param>
    /// <param name="detail">Added to the verbose line, e.g. " Retrying in 2 s."</param>
    public static bool TryReport(IWorkerOutput output, string what, Exception error, string then, Outage? outage = null, string detail = "")
    {
        if (!IsTransient(error)) return false;
        var (say, lasting) = outage?.Failed(DateTime.UtcNow) ?? (Outage.Say.Begins, TimeSpan.Zero);
        var clause = FirstClause(error.Message).TrimEnd('.');
        if (say == Outage.Say.Begins) output.Warning($"{what}: {clause}.{then} (Details with -Verbose.)");
        else if (say == Outage.Say.Continues) output.Warning($"{what}, for {lasting.TotalSeconds:0} s now: {clause}.");
        output.Verbose($"{what}: {error.Message}{detail}");
        return true;
    }

    /// <summary>
    /// Whether a loop that goes on rides <paramref name="error"/> out as an outage: Redis did not answer, refuses for a
    /// while (LOADING, BUSY, ...), or is full (OOM).
    /// </summary>
    public static bool IsTransient(Exception error) =>
        Failures.IsOutOfReach(error) || Failures.IsTemporaryRefusal(error) || Failures.OutOfMemoryRefusal(error) is not null;

    /// <summary>Says that Redis answers <paramref name="who"/> again: to the host when an outage was said to begin, else with -Verbose.</summary>
    public static void ReportRecovered(IWorkerOutput output, Outage outage, string who, TimeSpan after)
    {
        var message = $"Redis answers {who} again, after {after.TotalSeconds:0.#} s";
        if (outage.Ended()) output.Information(new InformationRecord(new HostInformationMessage { Message = message + ": it goes on." }, who) { Tags = { "PSHOST" } });
        else output.Verbose(message + ".");
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
        // ". script: <sha>, on @user_script:<line>" is where a server error names the script it refused.
        foreach (var mark in new[] { ". script: ", ": ", "; ", " (", ", command=" })
        {
            var at = message.IndexOf(mark, 10 < message.Length ? 10 : 0, StringComparison.Ordinal);
            if (at > 0 && at < end) end = at;
        }
        return message.Substring(0, Math.Min(end, 160)).TrimEnd('.', ' ');
    }
}
