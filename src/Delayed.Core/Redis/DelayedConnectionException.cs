using System;

namespace Delayed.Core.Redis;

/// <summary>Redis could not be reached; the message names the endpoint, never the password.</summary>
public sealed class DelayedConnectionException : Exception
{
    public DelayedConnectionException(string message, Exception inner) : base(message, inner) { }
}
