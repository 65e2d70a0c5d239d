using System;
using System.Globalization;
using System.Management.Automation.Host;
using System.Threading;

namespace Delayed.PowerShell.Handlers;

/// <summary>
/// The host of one handler runspace. It has no UI, as a runspace without a host has none; it is there for one thing:
/// 'exit' in a handler reaches the host as SetShouldExit (PowerShell completes the pipeline without an error), and
/// only this way can the worker tell an exit from a return and fail the task.
/// </summary>
internal sealed class HandlerHost : PSHost
{
    private int _exitCode = NoExit;
    private const int NoExit = int.MinValue;

    public override string Name => "DelayedHandlerHost";

    public override Version Version { get; } = typeof(HandlerHost).Assembly.GetName().Version ?? new Version(1, 0);

    public override Guid InstanceId { get; } = Guid.NewGuid();

    public override PSHostUserInterface? UI => null;

    public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;

    public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;

    /// <summary>The code of an exit since the last call, or null; forgets it.</summary>
    public int? TakeExit()
    {
        var code = Interlocked.Exchange(ref _exitCode, NoExit);
        return code == NoExit ? null : code;
    }

    public override void SetShouldExit(int exitCode) => Interlocked.Exchange(ref _exitCode, exitCode);

    public override void EnterNestedPrompt() => throw new NotSupportedException("A task handler cannot enter a nested prompt.");

    public override void ExitNestedPrompt() => throw new NotSupportedException("A task handler cannot leave a nested prompt.");

    public override void NotifyBeginApplication()
    {
    }

    public override void NotifyEndApplication()
    {
    }
}
