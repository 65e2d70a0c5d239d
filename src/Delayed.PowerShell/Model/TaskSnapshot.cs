using System.Collections.Specialized;
using Delayed.PowerShell.Conversion;

namespace Delayed;

/// <summary>A task's bytes as read from Redis, decoded: what Get-DelayedTask and Get-DelayedProcessing have in common.</summary>
public abstract class TaskSnapshot
{
    private readonly TaskView _view;

    private protected TaskSnapshot(Queue queue, byte[] bytes)
    {
        Queue = queue;
        Bytes = bytes;
        _view = TaskView.Of(bytes);
    }

    public Queue Queue { get; }

    /// <summary>The task's name; empty when its bytes cannot be decoded.</summary>
    public string? Name => _view.Name;

    public TaskFormat? Format => _view.Format;

    /// <summary>Positional arguments; for a Go-shaped task, its payload as the only element.</summary>
    public object?[] ArgumentList => _view.ArgumentList;

    public OrderedDictionary Parameter => _view.Parameter;

    public long Retry => _view.Retry;

    public int Size => Bytes.Length;

    /// <summary>The task's exact bytes, which identify it for Restore-DelayedTask and Remove-DelayedTask.</summary>
    public byte[] Bytes { get; }

    /// <summary>Why the task's bytes could not be decoded, if they could not.</summary>
    public string? DecodeError => _view.DecodeError;

    /// <summary>The arguments on one line, as the tables show them: positional ones, then parameters as
    /// Name=value; strings, numbers and dates as they are, lists and maps as compact JSON.</summary>
    public string FormatArguments() => _view.FormatArguments();

    /// <summary>The arguments on one line, as the tables show them (<see cref="FormatArguments"/>).</summary>
    public string Arguments => _view.FormatArguments();
}
