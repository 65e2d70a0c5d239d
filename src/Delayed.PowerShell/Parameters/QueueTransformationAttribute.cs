using System;
using System.Management.Automation;
using Delayed.Core.Redis;
using Delayed.PowerShell.Connections;

namespace Delayed.PowerShell.Parameters;

/// <summary>
/// Lets -Queue take queue names as well: each becomes a queue on the default Redis server. Works for a single
/// queue and for a list (Start-DelayedSweeper jobs, reports), names and queue objects mixed.
/// </summary>
internal sealed class QueueTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = Unwrap(inputData);
        if (value is string name) return FromName(name);
        if (value is System.Collections.IList list && list is not Queue[])
        {
            var items = new object?[list.Count];
            for (var i = 0; i < items.Length; i++) items[i] = Unwrap(list[i]) is string each ? FromName(each) : list[i];
            return items;
        }
        return inputData;
    }

    private static object? Unwrap(object? value) => value is PSObject wrapped ? wrapped.BaseObject : value;

    private static Queue FromName(string name)
    {
        var redis = ConnectionCache.DefaultConfiguration;
        try
        {
            return QueueFactory.Create(name, redis, null, null);
        }
        catch (Exception e) when (e is DelayedConnectionException or ArgumentException)
        {
            // A bare name hides which server it stands for: say so, and how to choose another.
            var reason = e is ArgumentException argument ? ArgumentMessages.WithoutParameterName(argument) : e.Message;
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
