using System.Management.Automation;
using Delayed.PowerShell.Handlers;

namespace Delayed.PowerShell.Hosting;

/// <summary>Writes to a cmdlet's pipeline, always from its pipeline thread (through the pump).</summary>
internal sealed class PipelineOutput : IWorkerOutput
{
    private readonly Cmdlet _cmdlet;
    private readonly PipelinePump _pump;

    public PipelineOutput(Cmdlet cmdlet, PipelinePump pump)
    {
        _cmdlet = cmdlet;
        _pump = pump;
    }

    public void Object(object value) => Post(() => _cmdlet.WriteObject(value));
    public void Error(ErrorRecord record) => Post(() => _cmdlet.WriteError(record));
    public void Warning(string message) => Post(() => _cmdlet.WriteWarning(message));
    public void Verbose(string message) => Post(() => _cmdlet.WriteVerbose(message));

    private void Post(System.Action write) => _pump.Post(() =>
    {
        try
        {
            write();
        }
        catch (PipelineStoppedException)
        {
            // After Ctrl+C the pipeline refuses output; the worker still finishes its tasks.
        }
    });
}
