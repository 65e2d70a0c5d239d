using System;

namespace Delayed.Examples;

/// <summary>Any attribute with this name marks a task handler; this assembly needs no reference to the module.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class DelayedHandlerAttribute : Attribute
{
    public DelayedHandlerAttribute()
    {
    }

    public DelayedHandlerAttribute(string name) => Name = name;

    public string? Name { get; set; }
}
