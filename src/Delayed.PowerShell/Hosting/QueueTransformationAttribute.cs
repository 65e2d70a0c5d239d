using System;
using System.Management.Automation;
using Delayed.Core.Redis;
using Delayed.PowerShell.Commands;

namespace Delayed.PowerShell.Hosting;

/// <summary>Lets -Queue take a queue name as well: it becomes a queue on the default Redis server.</summary>
internal sealed class QueueTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        if (value is not string name) return inputData;
        var redis = ConnectionCache.DefaultConfiguration;
        try
        {
            return QueueFactory.Create(name, redis, null, null);
        }
        catch (Exception e) when (e is DelayedConnectionException or ArgumentException)
        {
            // A bare name hides which server it stands for: say so, and how to choose another.
            var reason = e is ArgumentException argument ? DelayedCmdlet.WithoutParameterName(argument) : e.Message;
            var source = ConnectionCache.DefaultIsConfigured ? "from $env:DELAYED_REDIS" : "as $env:DELAYED_REDIS is not set";
            throw new ArgumentTransformationMetadataException(
                $"The queue name '{name}' stands for a queue on the default Redis server, {Describe(redis)} ({source}). {reason} " +
                $"Set $env:DELAYED_REDIS, or pass a queue from New-DelayedQueue {name} -Redis host:port.", e);
        }
    }

    // The configuration string can hold a password: show only what identifies the server.
    private static string Describe(string configuration)
    {
        try
        {
            return DelayedConnection.DisplayNameOf(configuration);
        }
        catch (ArgumentException)
        {
            return "not a valid configuration string";
        }
    }
}
