using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.Loader;

namespace Delayed.LoadContext;

/// <summary>
/// The engine's own load context: an assembly in the module's lib folder is loaded from there, unless the
/// runtime itself carries that assembly in the same or a newer version (framework assemblies are shared, so
/// that types like Task and ValueTask are the same on both sides). Another module's copy of StackExchange.Redis
/// or MessagePack therefore never meets ours.
/// </summary>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    private readonly string _directory;
    private readonly Lazy<Dictionary<string, string>> _platform = new(PlatformAssemblies);

    public DependencyLoadContext(string directory)
        : base("Delayed", isCollectible: false)
    {
        _directory = directory;
    }

    protected override Assembly? Load(AssemblyName name)
    {
        var path = Path.Combine(_directory, name.Name + ".dll");
        if (!File.Exists(path)) return null;
        if (_platform.Value.TryGetValue(name.Name!, out var platformPath)
            && AssemblyName.GetAssemblyName(platformPath).Version >= name.Version)
        {
            return null;
        }
        return LoadFromAssemblyPath(path);
    }

    private static Dictionary<string, string> PlatformAssemblies()
    {
        var assemblies = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var list = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "";
        foreach (var path in list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            assemblies[Path.GetFileNameWithoutExtension(path)] = path;
        return assemblies;
    }
}
