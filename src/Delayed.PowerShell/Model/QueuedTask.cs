namespace Delayed;

/// <summary>A task waiting in a queue, as Get-DelayedTask shows it (without taking it).</summary>
public sealed class QueuedTask : TaskSnapshot
{
    internal QueuedTask(Queue queue, long position, byte[] bytes)
        : base(queue, bytes)
        => Position = position;

    /// <summary>Zero-based position from the head: 0 runs next.</summary>
    public long Position { get; }
}
