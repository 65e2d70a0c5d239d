using System.Threading.Tasks;

namespace Delayed.Core.Worker;

/// <summary>Runs tasks of one name. Throw <see cref="TaskBindingException"/> when the arguments cannot be bound.</summary>
public interface ITaskHandler
{
    Task InvokeAsync(TaskContext context);
}
