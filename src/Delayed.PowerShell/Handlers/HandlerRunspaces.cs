using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Delayed.PowerShell.Handlers;

/// <summary>
/// One runspace per worker slot, all made from one initial state: the modules of -ImportModule, the
/// handlers defined as functions (scriptblocks are re-created from their text, so they cannot see the
/// caller's variables), and -InitializationScript run once in each. A slot always uses its own runspace.
/// </summary>
internal sealed class HandlerRunspaces : IDisposable
{
    private readonly InitialSessionState _state;
    private readonly string? _initializationScript;
    private readonly ConcurrentDictionary<string, Lazy<Runspace>> _bySlot = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<Runspace> _prepared = new();
    private readonly ConcurrentDictionary<Runspace, HandlerHost> _hosts = new();

    public HandlerRunspaces(IEnumerable<string> modules, string? initializationScript)
    {
        _state = InitialSessionState.CreateDefault2();
        // These runspaces are the worker's own: any error in a handler fails its task.
        _state.Variables.Add(new SessionStateVariableEntry("ErrorActionPreference", ActionPreference.Stop, "Handlers run with errors as terminating."));
        var list = modules.Where(m => !string.IsNullOrEmpty(m)).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        if (list.Length > 0) _state.ImportPSModule(list);
        _initializationScript = initializationScript;
    }

    /// <summary>
    /// Gives every runspace the caller's value of a preference variable (before the first is opened), so that a
    /// handler's Write-Verbose or Write-Information is shown or not as it would be in the foreground.
    /// </summary>
    public void CopyPreference(string name, object? value)
    {
        if (value is not null) _state.Variables.Add(new SessionStateVariableEntry(name, value, "The preference of the session that started the worker."));
    }

    /// <summary>Defines a function in every runspace (before the first is opened).</summary>
    public void DefineFunction(string name, string definition) => _state.Commands.Add(new SessionStateFunctionEntry(name, definition));

    /// <summary>Adds a module to import in every runspace (before the first is opened).</summary>
    public void ImportModule(string module) => _state.ImportPSModule(new[] { module });

    /// <summary>Opens one runspace now, so that a broken module or initialization script fails the start, not a task.</summary>
    public void Prepare() => _prepared.Add(Open());

    /// <summary>The runspace of a worker slot (a slot is named by its worker id).</summary>
    public Runspace For(string slot) =>
        _bySlot.GetOrAdd(slot, _ => new Lazy<Runspace>(() => _prepared.TryTake(out var ready) ? ready : Open())).Value;

    /// <summary>The code of an 'exit' in the last handler that ran in <paramref name="runspace"/>, or null; forgets it.</summary>
    public int? TakeExit(Runspace runspace) => _hosts.TryGetValue(runspace, out var host) ? host.TakeExit() : null;

    public void Dispose()
    {
        foreach (var runspace in _bySlot.Values.Where(r => r.IsValueCreated)) runspace.Value.Dispose();
        while (_prepared.TryTake(out var unused)) unused.Dispose();
    }

    private Runspace Open()
    {
        var host = new HandlerHost();
        var runspace = RunspaceFactory.CreateRunspace(host, _state);
        _hosts[runspace] = host;
        // Handlers run on the thread that invokes them, the slot's own (its direct connection's, where its claim's reply
        // came, or its handler thread): a runspace thread of its own would be one more thread to wake per task, which
        // on busy cores costs more than the handler (bench/README.md). A slot invokes its runspace one call at a time.
        runspace.ThreadOptions = PSThreadOptions.UseCurrentThread;
        runspace.Open();
        if (_initializationScript is not null)
        {
            using var powerShell = System.Management.Automation.PowerShell.Create();
            powerShell.Runspace = runspace;
            powerShell.AddScript(_initializationScript).Invoke();
            if (powerShell.HadErrors && powerShell.Streams.Error.Count > 0)
                throw new InvalidOperationException("The initialization script failed: " + powerShell.Streams.Error[0], powerShell.Streams.Error[0].Exception);
        }
        return runspace;
    }
}
