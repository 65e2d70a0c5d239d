using System;

namespace Delayed.Core.Codec;

/// <summary>A value cannot be written to, or read from, a task as plain data.</summary>
public sealed class PlainDataException : Exception
{
    public PlainDataException(string message) : base(message) { }
    public PlainDataException(string message, Exception inner) : base(message, inner) { }
}
