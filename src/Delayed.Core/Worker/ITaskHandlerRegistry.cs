namespace Delayed.Core.Worker;

/// <summary>The explicit registry a worker dispatches on: only names it resolves ever run: queue data is data, never code.</summary>
public interface ITaskHandlerRegistry
{
    /// <summary>The handler registered under exactly <paramref name="name"/>, or null.</summary>
    ITaskHandler? Resolve(string name);
}
