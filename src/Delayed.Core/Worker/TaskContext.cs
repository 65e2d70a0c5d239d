using System.Threading;
using Delayed.Core.Codec;

namespace Delayed.Core.Worker;

/// <summary>One task as a handler sees it.</summary>
public sealed class TaskContext
{
    public TaskContext(DelayedTask task, string queue, string workerId, CancellationToken cancellationToken)
    {
        Task = task;
        Queue = queue;
        WorkerId = workerId;
        CancellationToken = cancellationToken;
    }

    public DelayedTask Task { get; }

    public string Queue { get; }

    public string WorkerId { get; }

    /// <summary>Signalled when the worker is asked to stop or the task runs past its timeout.</summary>
    public CancellationToken CancellationToken { get; }
}
