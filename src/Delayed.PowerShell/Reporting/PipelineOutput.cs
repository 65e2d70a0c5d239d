using System.Management.Automation;
using Delayed.PowerShell.Handlers;

namespace Delayed.PowerShell.Reporting;

/// <summary>Writes to a cmdlet's pipeline, always from its pipeline thread (through the pump).</summary>
internal sealed class PipelineOutput : IWorkerOutput
{
    private readonly Cmdlet _cmdlet;
    private readonly PipelinePump _pump;

    private readonly System.Management.Automation.Host.PSHost? _host;

    public PipelineOutput(Cmdlet cmdlet, PipelinePump pump)
    {
        _cmdlet = cmdlet;
        _host = (cmdlet as PSCmdlet)?.Host;
        _pump = pump;
    }

    // After Ctrl+C the pipeline refuses output while the worker still finishes its tasks: the summary, errors and
    // warnings then go to the host, so that what the stop did is still seen. Per-task records and verbose lines do not.
    public void Object(object value) => Post(() => _cmdlet.WriteObject(value), ui => { if (value is WorkerSummary) ui.WriteLine(value.ToString()); });
    public void Error(ErrorRecord record) => Post(() => _cmdlet.WriteError(record), ui => ui.WriteErrorLine(record.ToString()));
    public void Warning(string message) => Post(() => _cmdlet.WriteWarning(message), ui => ui.WriteWarningLine(message));
    public void Verbose(string message) => Post(() => _cmdlet.WriteVerbose(message), _ => { });
    public void Debug(string message) => Post(() => _cmdlet.WriteDebug(message), _ => { });

    // Write-Host's records carry the PSHOST tag: the host shows them whatever the information preference.
    public void Information(InformationRecord record) => Post(() => _cmdlet.WriteInformation(record),
        ui => { if (record.Tags.Contains("PSHOST")) ui.WriteLine(record.MessageData?.ToString()); });

    // A foreground handler writes from the pipeline thread itself, while the pump runs it: written at once, not after the task.
    private void Post(System.Action write, System.Action<System.Management.Automation.Host.PSHostUserInterface> afterStop)
    {
        if (_pump.OnPumpThread) Write(write, afterStop);
        else _pump.Post(() => Write(write, afterStop));
    }

    private void Write(System.Action write, System.Action<System.Management.Automation.Host.PSHostUserInterface> afterStop)
    {
        try
        {
            write();
        }
        catch (PipelineStoppedException)
        {
            if (_host?.UI is { } ui) afterStop(ui);
        }
    }
}
