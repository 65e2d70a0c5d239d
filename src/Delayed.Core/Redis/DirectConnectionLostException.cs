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
}
