namespace Delayed.Core.Queue;

/// <summary>A task waiting in the list, as a peek sees it.</summary>
public sealed class QueuedTask
{
    public QueuedTask(long position, byte[] raw)
    {
        Position = position;
        Raw = raw;
    }

    /// <summary>Zero-based index from the head (the next task to run is 0).</summary>
    public long Position { get; }

    public byte[] Raw { get; }
}
