using System;

namespace Delayed.Core.Redis;

/// <summary>A slot's direct connection failed or rests (<see cref="DirectConnection"/>): the call goes through the multiplexer.</summary>
internal sealed class DirectConnectionLostException : Exception
{
    public DirectConnectionLostException()
    {
    }

    public DirectConnectionLostException(string message)
        : base(message)
    {
    }

    public DirectConnectionLostException(string message, Exception? inner)
        : base(message, inner)
    {
    }

    /// <summary>The server answered the call with an error rather than failing to answer: the connection is still good.</summary>
    public bool Refused { get; private set; }

    /// <summary>A call the server refused with <paramref name="error"/>.</summary>
    public static DirectConnectionLostException Refusal(string error) => new("Redis refused the call: " + error, null) { Refused = true };
}
