namespace Delayed.Core.Worker;

/// <summary>The explicit registry a worker dispatches on: only names it resolves ever run (D20).</summary>
public interface ITaskHandlerRegistry
{
    /// <summary>The handler registered under exactly <paramref name="name"/>, or null.</summary>
    ITaskHandler? Resolve(string name);
}
