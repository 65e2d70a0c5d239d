using System.Linq;
using System.Management.Automation;
using Delayed.PowerShell.Handlers;

namespace Delayed.PowerShell.Commands;

/// <summary>Removes handlers from this session's registry.</summary>
/// <remarks>Workers started afterwards refuse (and release) tasks of the removed names. A worker already running keeps the handlers it started with. -Name takes wildcards.</remarks>
/// <example>
/// <code>Unregister-DelayedHandler -Name Restart-Site</code>
/// <para>Tasks named Restart-Site no longer run on workers started in this session.</para>
/// </example>
/// <example>
/// <code>Get-DelayedHandler | Unregister-DelayedHandler -WhatIf</code>
/// <para>Shows which handlers would be removed.</para>
/// </example>
[Cmdlet(VerbsLifecycle.Unregister, "DelayedHandler", SupportsShouldProcess = true)]
public sealed class UnregisterDelayedHandlerCommand : DelayedCmdlet
{
    /// <summary>Task names whose handlers to remove; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(Completion.HandlerNameCompleter))]
    public string[] Name { get; set; } = System.Array.Empty<string>();

    protected override void ProcessRecord()
    {
        var table = SessionHandlers.Current;
        foreach (var name in Name)
        {
            var pattern = new WildcardPattern(name, WildcardOptions.None);
            var matches = table.Keys.Where(k => pattern.IsMatch(k)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                WriteError(new ErrorRecord(new ItemNotFoundException($"No handler is registered for task '{name}'."), "HandlerNotFound", ErrorCategory.ObjectNotFound, name));
                continue;
            }
            foreach (var match in matches)
            {
                if (ShouldProcess(match, "Unregister task handler")) table.Remove(match);
            }
        }
    }
}
