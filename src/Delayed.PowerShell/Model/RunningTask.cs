namespace Delayed;

/// <summary>
/// The task a PowerShell handler is running, as the variable $DelayedTask shows it inside the handler: which task,
/// on which queue and worker, and which attempt.
/// </summary>
public sealed class RunningTask
{
    internal RunningTask(string name, string queue, string workerId, long attempt, long retry, TaskFormat format)
    {
        Name = name;
        Queue = queue;
        WorkerId = workerId;
        Attempt = attempt;
        Retry = retry;
        Format = format;
    }

    public string Name { get; }

    public string Queue { get; }

    public string WorkerId { get; }

    /// <summary>Which attempt this is, from 1: one more than the runs of this task that failed before.</summary>
    public long Attempt { get; }

    /// <summary>The retry budget left after this attempt if it fails: 0 none, negative unlimited.</summary>
    public long Retry { get; }

    public TaskFormat Format { get; }

    internal static RunningTask Of(Core.Worker.TaskContext context) => new(
        context.Task.Name, context.Queue, context.WorkerId, context.Attempt, context.Task.Retry,
        context.Task.Format == Core.Codec.TaskFormat.Go ? TaskFormat.Go : TaskFormat.Python);
}
