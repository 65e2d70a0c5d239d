using System.Management.Automation;
using Delayed.PowerShell.Reporting;

namespace Delayed.PowerShell.Jobs;

/// <summary>Writes to a job's streams, which Receive-Job reads.</summary>
internal sealed class JobOutput : IWorkerOutput
{
    private readonly Job _job;

    public JobOutput(Job job) => _job = job;

    public void Object(object value) => _job.Output.Add(PSObject.AsPSObject(value));
    public void Error(ErrorRecord record) => _job.Error.Add(record);
    public void Warning(string message) => _job.Warning.Add(new WarningRecord(message));
    public void Verbose(string message) => _job.Verbose.Add(new VerboseRecord(message));
    public void Debug(string message) => _job.Debug.Add(new DebugRecord(message));
    public void Information(InformationRecord record) => _job.Information.Add(record);
}
