using System;

namespace Delayed;

/// <summary>
/// Marks a public static method as the handler of a task name. Only marked methods can be called by tasks.
/// Any attribute class named DelayedHandlerAttribute counts, so a handler assembly need not reference this one.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class DelayedHandlerAttribute : Attribute
{
    /// <summary>Handles tasks named Namespace.Type.Method.</summary>
    public DelayedHandlerAttribute()
    {
    }

    /// <summary>Handles tasks of the given name.</summary>
    public DelayedHandlerAttribute(string name) => Name = name;

    /// <summary>The task name; default Namespace.Type.Method.</summary>
    public string? Name { get; set; }
}
