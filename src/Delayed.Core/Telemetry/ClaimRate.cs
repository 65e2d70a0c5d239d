using System;
using System.Collections.Generic;
using Delayed.Core.Queue;

namespace Delayed.Core.Telemetry;

/// <summary>
/// Tasks a queue's workers start per second over the last minute, from repeated looks at its in-flight hash: a worker of
/// this implementation stamps each task it holds with how many it has claimed, so the growth of those numbers between
/// looks counts the tasks taken meanwhile, also those that came and went between two looks. A worker's claims show only
/// while it holds a task: a claim it finished before a look and never followed is counted at its next one. Python and
/// Go workers stamp nothing, and are not counted.
/// </summary>
internal sealed class ClaimRate
{
    /// <summary>The span the rate is taken over.</summary>
    internal static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Dictionary<string, long> _lastClaims = new(StringComparer.Ordinal);
    private readonly Queue<(DateTimeOffset At, long Claimed)> _counts = new();
    private DateTimeOffset? _firstLook;

    /// <summary>The tasks counted at the last look: those started since the one before.</summary>
    public long LastCount { get; private set; }

    /// <summary>Takes one look and returns the rate per second over the window (or the time looked, when shorter).</summary>
    public double Observe(IReadOnlyList<InFlightTask> inFlight, DateTimeOffset now)
    {
        _firstLook ??= now;
        long claimed = 0;
        foreach (var task in inFlight)
        {
            if (task.Claims is not { } claims) continue;
            if (_lastClaims.TryGetValue(task.WorkerId, out var last)) claimed += Math.Max(0, claims - last);
            // A worker that registered since the first look took all its tasks while looked at; an older one counts from now.
            else if (task.Worker?.Description.StartedAt is { } started && started >= _firstLook) claimed += claims;
            _lastClaims[task.WorkerId] = claims;
        }
        LastCount = claimed;
        _counts.Enqueue((now, claimed));
        while (_counts.Count > 0 && now - _counts.Peek().At > Window) _counts.Dequeue();
        long total = 0;
        foreach (var (_, count) in _counts) total += count;
        var span = now - _firstLook.Value;
        var seconds = Math.Min(Window.TotalSeconds, span.TotalSeconds);
        return seconds < 1 ? 0 : total / seconds;
    }
}
