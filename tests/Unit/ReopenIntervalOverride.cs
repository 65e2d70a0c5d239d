using System;
using Delayed.Core.Redis;

namespace Delayed.Tests;

/// <summary>
/// Sets how long a failed direct connection rests (<see cref="DirectConnection.ReopenInterval"/>) for one test, and sets
/// it back when disposed: long, so that a slot really works through the multiplexer afterwards; short, so that it reopens.
/// </summary>
internal sealed class ReopenIntervalOverride : IDisposable
{
    private readonly TimeSpan _before = DirectConnection.ReopenInterval;

    public ReopenIntervalOverride(TimeSpan interval) => DirectConnection.ReopenInterval = interval;

    public void Dispose() => DirectConnection.ReopenInterval = _before;
}
