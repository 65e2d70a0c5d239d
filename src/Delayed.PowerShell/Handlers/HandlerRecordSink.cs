using System;
using System.Management.Automation;

namespace Delayed.PowerShell.Handlers;

/// <summary>
/// The last command of a foreground handler's pipeline: the handler's streams merged into its output arrive here one by one, on the pipeline thread, while it runs. Never
/// exported: the foreground pipeline (<see cref="ForegroundPipeline"/>) calls it through its <see cref="CmdletInfo"/>.
/// </summary>
[Cmdlet("Out", "DelayedHandlerRecord")]
internal sealed class HandlerRecordSink : Cmdlet
{
    /// <summary>The command to call it by, from a scriptblock.</summary>
    public static readonly CmdletInfo Command = new("Out-DelayedHandlerRecord", typeof(HandlerRecordSink));

    [Parameter(Mandatory = true, Position = 0)]
    public Action<object?> Target { get; set; } = null!;

    [Parameter(ValueFromPipeline = true)]
    [AllowNull]
    public object? InputObject { get; set; }

    protected override void ProcessRecord() => Target(InputObject);
}
