using System.Collections.Generic;
using System.Linq;
using Delayed.Core.Handlers;

namespace Delayed.PowerShell.Handlers;

/// <summary>The handlers of a .NET assembly as the session's registry holds them.</summary>
internal static class AssemblyHandlerLoader
{
    public static IReadOnlyList<HandlerInfo> Load(string fullPath) =>
        AssemblyHandlers.Load(fullPath).Select(h => new HandlerInfo(h.Name, null, null, h)).ToList();
}
