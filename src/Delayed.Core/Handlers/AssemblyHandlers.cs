using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;

namespace Delayed.Core.Handlers;

/// <summary>
/// Finds the task handlers of an assembly: public static methods of public types marked with an attribute
/// named DelayedHandlerAttribute (from Delayed.Abstractions, or the assembly's own). Nothing else in the
/// assembly can be called by a task. The attribute is read as metadata, so its identity does not matter.
/// </summary>
public static class AssemblyHandlers
{
    private const string AttributeName = "DelayedHandlerAttribute";

    /// <summary>Loads the assembly at <paramref name="path"/> (its dependencies from its folder) and returns its handlers.</summary>
    public static IReadOnlyList<MethodTaskHandler> Load(string path)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath)) throw new FileNotFoundException($"The handler assembly '{fullPath}' does not exist.", fullPath);
        Assembly assembly;
        try
        {
            assembly = Assembly.LoadFrom(fullPath);
        }
        catch (BadImageFormatException e)
        {
            throw new ArgumentException($"'{fullPath}' is not a .NET assembly that this runtime can load: {e.Message}", nameof(path), e);
        }
        return Find(assembly);
    }

    public static IReadOnlyList<MethodTaskHandler> Find(Assembly assembly)
    {
        Type[] types;
        try
        {
            types = assembly.GetExportedTypes();
        }
        catch (Exception e) when (e is ReflectionTypeLoadException or FileNotFoundException or FileLoadException)
        {
            throw new ArgumentException($"The types of '{assembly.GetName().Name}' cannot be loaded, usually because a dependency is missing from its folder: {e.Message}", e);
        }
        var handlers = new List<MethodTaskHandler>();
        foreach (var type in types)
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                var marker = method.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.Name == AttributeName);
                if (marker is null) continue;
                if (method.ContainsGenericParameters)
                    throw new ArgumentException($"{type.FullName}.{method.Name} is generic; a task handler must be a non-generic method.");
                var name = NameOf(marker) ?? $"{type.FullName!.Replace('+', '.')}.{method.Name}";
                if (handlers.Any(h => h.Name == name))
                    throw new ArgumentException($"Two methods of '{assembly.GetName().Name}' handle the task name '{name}'; give one of them another name in its attribute.");
                handlers.Add(new MethodTaskHandler(name, method));
            }
        }
        return handlers;
    }

    private static string? NameOf(CustomAttributeData marker)
    {
        var fromConstructor = marker.ConstructorArguments.FirstOrDefault(a => a.ArgumentType == typeof(string)).Value as string;
        var fromProperty = marker.NamedArguments.FirstOrDefault(a => a.MemberName == "Name").TypedValue.Value as string;
        var name = fromConstructor ?? fromProperty;
        return string.IsNullOrEmpty(name) ? null : name;
    }
}
