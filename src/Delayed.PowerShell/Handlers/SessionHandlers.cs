using System;
using System.Collections.Generic;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;

namespace Delayed.PowerShell.Handlers;

/// <summary>The handlers registered in each runspace (Register-DelayedHandler); names match exactly.</summary>
internal static class SessionHandlers
{
    private static readonly ConditionalWeakTable<Runspace, Dictionary<string, HandlerInfo>> Tables = new();

    public static Dictionary<string, HandlerInfo> Current
    {
        get
        {
            var table = Tables.GetValue(Runspace.DefaultRunspace, _ => new Dictionary<string, HandlerInfo>(StringComparer.Ordinal));
            return table;
        }
    }
}
