using System.Linq;
using System.Management.Automation;
using Delayed.PowerShell.Handlers;

namespace Delayed.PowerShell.Commands;

/// <summary>Lists the handlers registered in this session.</summary>
/// <remarks>Shows each registered task name with the scriptblock or command that runs it. -Name takes wildcards, matched ignoring case; a name without wildcards matches exactly, as workers dispatch on it.</remarks>
/// <example>
/// <code>Get-DelayedHandler</code>
/// <para>All registered handlers.</para>
/// </example>
/// <example>
/// <code>Get-DelayedHandler -Name Restart-*</code>
/// <para>The handlers whose task names start with Restart-.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "DelayedHandler")]
[OutputType(typeof(HandlerInfo))]
public sealed class GetDelayedHandlerCommand : DelayedCmdlet
{
    /// <summary>Task names to show; wildcards allowed. Default: all.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(Completion.HandlerNameCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var handlers = SessionHandlers.Current.Values.OrderBy(h => h.Name, System.StringComparer.Ordinal).ToList();
        if (Name is null)
        {
            WriteObject(handlers, enumerateCollection: true);
            return;
        }
        foreach (var name in Name)
        {
            // A pattern matches ignoring case, as PowerShell's wildcards do; a plain name is a task name, which workers
            // dispatch on exactly, so it matches exactly.
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            var matches = WildcardPattern.ContainsWildcardCharacters(name)
                ? handlers.Where(h => pattern.IsMatch(h.Name)).ToList()
                : handlers.Where(h => string.Equals(h.Name, name, System.StringComparison.Ordinal)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                WriteError(new ErrorRecord(new ItemNotFoundException($"No handler is registered for task '{name}'. Register one with Register-DelayedHandler."),
                    "HandlerNotFound", ErrorCategory.ObjectNotFound, name));
            WriteObject(matches, enumerateCollection: true);
        }
    }
}
