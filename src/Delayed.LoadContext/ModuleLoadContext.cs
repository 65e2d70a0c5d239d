using System;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace Delayed.LoadContext;

/// <summary>
/// Called once when the module is imported: from then on, the default context's requests for the engine
/// (Delayed.Core) are answered from the module's own load context, and requests for Delayed.Abstractions
/// (referenced by handler assemblies) from the module's folder.
/// </summary>
public static class ModuleLoadContext
{
    private static readonly object Gate = new();
    private static DependencyLoadContext? _context;
    private static string? _moduleDirectory;

    public static void Register(string moduleDirectory)
    {
        lock (Gate)
        {
            if (_context is not null) return;
            _moduleDirectory = moduleDirectory;
            _context = new DependencyLoadContext(Path.Combine(moduleDirectory, "lib"));
            AssemblyLoadContext.Default.Resolving += Resolve;
        }
    }

    private static Assembly? Resolve(AssemblyLoadContext context, AssemblyName name) => name.Name switch
    {
        "Delayed.Core" => _context!.LoadFromAssemblyName(name),
        "Delayed.Abstractions" => context.LoadFromAssemblyPath(Path.Combine(_moduleDirectory!, "Delayed.Abstractions.dll")),
        _ => null,
    };
}
