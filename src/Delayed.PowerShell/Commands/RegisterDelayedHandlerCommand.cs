using System;
using System.Management.Automation;
using Delayed.PowerShell.Handlers;

namespace Delayed.PowerShell.Commands;

/// <summary>Registers a scriptblock or command as the handler of a task name in this session.</summary>
/// <remarks>
/// Workers started in this session (Start-DelayedWorker) run tasks whose name matches a registered handler
/// exactly; every other task is refused and released. Task data is only ever passed as arguments: nothing in a
/// task is run as code, and only registered names run. A handler runs with $ErrorActionPreference = 'Stop', so
/// any error fails the task. Registering a name again replaces its handler.
/// </remarks>
/// <example>
/// <code>Register-DelayedHandler -Name Restart-Site -ScriptBlock { param($Server, [switch]$Force) Restart-WebAppPool -Name $Server }</code>
/// <para>Tasks named Restart-Site run this scriptblock, their arguments bound as splatting does.</para>
/// </example>
/// <example>
/// <code>Register-DelayedHandler -Command Send-MailMessage</code>
/// <para>Tasks named Send-MailMessage call that cmdlet.</para>
/// </example>
/// <example>
/// <code>Register-DelayedHandler -AssemblyPath ./bin/Ops.Handlers.dll -PassThru</code>
/// <para>Registers every method of the assembly marked [DelayedHandler], under the name its attribute gives (default Namespace.Type.Method).</para>
/// </example>
[Cmdlet(VerbsLifecycle.Register, "DelayedHandler", DefaultParameterSetName = "ScriptBlock", SupportsShouldProcess = true)]
[OutputType(typeof(HandlerInfo))]
public sealed class RegisterDelayedHandlerCommand : DelayedCmdlet
{
    /// <summary>The task name the handler runs, matched exactly (case-sensitive). For -Command, defaults to the command's name.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "ScriptBlock", ValueFromPipelineByPropertyName = true)]
    [Parameter(Position = 0, ParameterSetName = "Command", ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(Completion.HandlerNameCompleter))]
    public string? Name { get; set; }

    /// <summary>The scriptblock to run; its parameters receive the task's arguments.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = "ScriptBlock", ValueFromPipelineByPropertyName = true)]
    public ScriptBlock ScriptBlock { get; set; } = null!;

    /// <summary>An existing function or cmdlet to call; it must be available when a worker starts.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Command", ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Command { get; set; } = "";

    /// <summary>A .NET assembly whose methods marked [DelayedHandler] become handlers.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Assembly", ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath")]
    [ValidateNotNullOrEmpty]
    public string AssemblyPath { get; set; } = "";

    /// <summary>Writes the registered handler(s).</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Assembly")
        {
            RegisterAssembly();
            return;
        }
        HandlerInfo handler;
        if (ParameterSetName == "Command")
        {
            try
            {
                var command = WorkerHandlerRegistry.ResolveCommand(Name ?? Command, Command, InvokeCommand);
                handler = new HandlerInfo(Name ?? command.Name, null, command.Name);
            }
            catch (ArgumentException e)
            {
                WriteError(new ErrorRecord(e, "CommandNotFound", ErrorCategory.ObjectNotFound, Command));
                return;
            }
        }
        else
        {
            handler = new HandlerInfo(Name!, ScriptBlock, null);
        }
        if (ShouldProcess(handler.Name, "Register task handler")) Register(handler);
    }

    private void RegisterAssembly()
    {
        System.Collections.Generic.IReadOnlyList<HandlerInfo> handlers;
        try
        {
            handlers = AssemblyHandlerLoader.Load(SessionState.Path.GetUnresolvedProviderPathFromPSPath(AssemblyPath));
        }
        catch (Exception e) when (e is ArgumentException or System.IO.IOException or BadImageFormatException)
        {
            WriteError(new ErrorRecord(e, "InvalidHandlerAssembly", ErrorCategory.InvalidArgument, AssemblyPath));
            return;
        }
        if (handlers.Count == 0)
            WriteWarning($"'{AssemblyPath}' has no public static method marked [DelayedHandler]: nothing was registered.");
        foreach (var handler in handlers)
        {
            if (ShouldProcess(handler.Name, $"Register task handler {handler.Definition}")) Register(handler);
        }
    }

    private void Register(HandlerInfo handler)
    {
        SessionHandlers.Current[handler.Name] = handler;
        if (PassThru) WriteObject(handler);
    }
}
