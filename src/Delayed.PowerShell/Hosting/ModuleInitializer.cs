using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Delayed.PowerShell.Hosting;

/// <summary>
/// Isolates the engine and its dependencies (StackExchange.Redis, MessagePack and the packages they bring),
/// which the built module keeps in its lib folder, from other modules' versions of the same libraries:
/// on PowerShell 7 they load into an AssemblyLoadContext of the module's own (Delayed.LoadContext.dll); on
/// Windows PowerShell 5.1 a resolver answers only for assemblies present in that folder. Cmdlet parameter
/// and output types live in this assembly, so nothing of the engine crosses into a caller's types.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer
{
    public void OnImport()
    {
        var moduleDirectory = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!;
        var lib = Path.Combine(moduleDirectory, "lib");
        if (!Directory.Exists(lib)) return; // a development build with everything side by side
        if (RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal))
        {
            FrameworkResolver.Register(moduleDirectory, lib);
            return;
        }
        if (Environment.Version.Major < 8)
            throw new PlatformNotSupportedException($"Delayed needs PowerShell 7.4 or later (on .NET 8 or later), or Windows PowerShell 5.1; this is PowerShell on .NET {Environment.Version}. Update PowerShell: https://aka.ms/powershell");
        var loader = Assembly.LoadFrom(Path.Combine(moduleDirectory, "Delayed.LoadContext.dll"));
        loader.GetType("Delayed.LoadContext.ModuleLoadContext", throwOnError: true)!
            .GetMethod("Register", BindingFlags.Public | BindingFlags.Static)!
            .Invoke(null, new object[] { moduleDirectory });
    }

    /// <summary>Windows PowerShell 5.1 has one load context: resolve, from the module's folders only, what it cannot find.</summary>
    private static class FrameworkResolver
    {
        private static string? _moduleDirectory, _lib;

        public static void Register(string moduleDirectory, string lib)
        {
            if (_lib is not null) return;
            _moduleDirectory = moduleDirectory;
            _lib = lib;
            AppDomain.CurrentDomain.AssemblyResolve += Resolve;
        }

        private static Assembly? Resolve(object? sender, ResolveEventArgs args)
        {
            var requested = new AssemblyName(args.Name);
            foreach (var directory in new[] { _lib!, _moduleDirectory! })
            {
                var path = Path.Combine(directory, requested.Name + ".dll");
                // Never hand an older version than asked for: another module's request is not ours to break.
                if (File.Exists(path) && (requested.Version is null || AssemblyName.GetAssemblyName(path).Version >= requested.Version))
                    return Assembly.LoadFrom(path);
            }
            return null;
        }
    }
}
