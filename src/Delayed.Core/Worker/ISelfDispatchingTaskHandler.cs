namespace Delayed.Core.Worker;

/// <summary>
/// A handler whose <see cref="ITaskHandler.InvokeAsync"/> only hands the work to a thread of its own (a
/// runspace's thread, a pipeline pump) and returns at once. The worker calls it directly instead of through
/// the slot's <see cref="HandlerThread"/>, saving a thread switch per task.
/// </summary>
public interface ISelfDispatchingTaskHandler : ITaskHandler
{
}
