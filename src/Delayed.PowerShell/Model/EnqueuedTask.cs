namespace Delayed;

/// <summary>A task Add-DelayedTask sent (with -PassThru).</summary>
public sealed class EnqueuedTask
{
    internal EnqueuedTask(Queue queue, string name, TaskFormat format, int size)
    {
        Queue = queue;
        Name = name;
        Format = format;
        Size = size;
    }

    public Queue Queue { get; }
    public string Name { get; }
    public TaskFormat Format { get; }

    /// <summary>Serialized size in bytes.</summary>
    public int Size { get; }

    /// <summary>
    /// True when the task was not enqueued because one with the same uniqueness key was, less than -UniqueFor ago
    /// (Add-DelayedTask -UniqueFor).
    /// </summary>
    public bool Duplicate { get; internal set; }

    /// <summary>
    /// The id of the tracked task (Add-DelayedTask -AsJob) this enqueue stands for: the new one, or for a duplicate the
    /// tracked one that holds the window; Get-DelayedTask -Id finds it. Empty for an untracked task.
    /// </summary>
    public string? TrackingId { get; internal set; }
}
