using System.Collections.Specialized;
using Delayed.PowerShell.Conversion;

namespace Delayed;

/// <summary>A task waiting in a queue, as Get-DelayedTask shows it (without taking it).</summary>
public sealed class QueuedTask
{
    private readonly TaskView _view;

    internal QueuedTask(Queue queue, long position, byte[] bytes)
    {
        Queue = queue;
        Position = position;
        Bytes = bytes;
        _view = TaskView.Of(bytes);
    }

    public Queue Queue { get; }

    /// <summary>Zero-based position from the head: 0 runs next.</summary>
    public long Position { get; }

    public string? Name => _view.Name;
    public TaskFormat? Format => _view.Format;
    public object?[] ArgumentList => _view.ArgumentList;
    public OrderedDictionary Parameter => _view.Parameter;
    public long Retry => _view.Retry;
    public int Size => Bytes.Length;

    /// <summary>The task's exact bytes, which identify it for Remove-DelayedTask.</summary>
    public byte[] Bytes { get; }

    public string? DecodeError => _view.DecodeError;
}
