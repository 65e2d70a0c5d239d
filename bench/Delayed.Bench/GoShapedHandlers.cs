using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Delayed.Core.Handlers;
using Delayed.Core.Worker;

namespace Delayed.Bench;

/// <summary>
/// The Go comparison's handler on our side (the bench's `go` mode): a no-op of two parameters under the Go stand-in's
/// name, run as a handler assembly's methods are (each task's arguments bound to the parameters), so that both sides
/// decode and bind what they run.
/// </summary>
public static class GoShapedHandlers
{
    [DelayedHandler("main.Noop")]
    public static void Noop(int a, string b)
    {
    }

    /// <summary>The handlers of this type, found as Start-DelayedWorker -AssemblyPath finds an assembly's.</summary>
    internal static ITaskHandlerRegistry Registry() =>
        new MethodRegistry(AssemblyHandlers.Find(typeof(GoShapedHandlers).Assembly).ToDictionary(h => h.Name, h => (ITaskHandler)h, StringComparer.Ordinal));

    private sealed class MethodRegistry(Dictionary<string, ITaskHandler> handlers) : ITaskHandlerRegistry
    {
        public ITaskHandler? Resolve(string name) => handlers.GetValueOrDefault(name);
    }
}

/// <summary>Marks a handler; read by name, as a handler assembly's own attribute would be.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class DelayedHandlerAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
