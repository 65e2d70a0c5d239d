using System;
using System.Collections.Concurrent;

namespace Delayed.Core.Telemetry;

/// <summary>Bounds the task names a measurement is tagged with: the first ones seen as they are, any later one as "other".</summary>
internal sealed class NameFolder
{
    private readonly ConcurrentDictionary<string, bool> _names = new(StringComparer.Ordinal);
    private readonly int _limit;

    public NameFolder(int limit) => _limit = limit;

    /// <summary>The name itself once seen or while fewer than the limit were; otherwise, or for no name, "other".</summary>
    public string Fold(string? name)
    {
        if (string.IsNullOrEmpty(name)) return DelayedMetrics.OtherName;
        if (_names.ContainsKey(name!)) return name!;
        // Racing callers may pass the limit by a few: a bound on the series, not an exact count.
        if (_names.Count >= _limit) return DelayedMetrics.OtherName;
        _names.TryAdd(name!, true);
        return name!;
    }
}
