using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Worker;

namespace Delayed.Core.Handlers;

/// <summary>
/// Runs tasks with a public static .NET method. Arguments are bound afresh for every task: a
/// Python-shaped task's positional arguments by position and its keyword arguments by parameter name
/// (case-insensitive); a Go-shaped task's payload whole to a single parameter, or spread over several.
/// Missing optional parameters take their defaults; a CancellationToken parameter receives the worker's
/// stop and timeout token; Task and ValueTask results are awaited.
/// </summary>
public sealed class MethodTaskHandler : ITaskHandler
{
    private readonly ParameterInfo[] _parameters;
    private readonly ParameterInfo[] _dataParameters;
    // Where a binding error points, by parameter position, for tasks under this handler's own name: formatted once, not
    // for every argument of every task (a registry may give the handler other names too, which are formatted as met).
    private readonly string[] _bindingPaths;

    internal MethodTaskHandler(string name, MethodInfo method)
    {
        Name = name;
        Method = method;
        _parameters = method.GetParameters();
        _dataParameters = _parameters.Where(p => p.ParameterType != typeof(CancellationToken)).ToArray();
        _bindingPaths = Array.ConvertAll(_parameters, p => BindingPath(name, p));
    }

    private string BindingPath(string taskName, ParameterInfo parameter) =>
        $"Task '{taskName}': parameter '{parameter.Name}' of {Method.DeclaringType!.Name}.{Method.Name}";

    public string Name { get; }

    public MethodInfo Method { get; }

    /// <summary>"Namespace.Type.Method(Int32 a, String b)".</summary>
    public string Signature =>
        $"{Method.DeclaringType!.FullName}.{Method.Name}({string.Join(", ", _parameters.Select(p => $"{ValueConverter.TypeName(p.ParameterType)} {p.Name}"))})";

    public async Task InvokeAsync(TaskContext context)
    {
        var arguments = Bind(context);
        object? result;
        try
        {
            result = Method.Invoke(null, arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw; // not reached
        }
        switch (result)
        {
            case Task task:
                await task.ConfigureAwait(false);
                if (context.TrackingId is not null) context.Result = ResultOf(task);
                break;
            case ValueTask valueTask:
                await valueTask.ConfigureAwait(false);
                break;
            case not null when result.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(ValueTask<>):
                var awaited = (Task)type.GetMethod(nameof(ValueTask<int>.AsTask))!.Invoke(result, null)!;
                await awaited.ConfigureAwait(false);
                if (context.TrackingId is not null) context.Result = ResultOf(awaited);
                break;
            default:
                // Only a tracked task's caller gets the value back: an untracked task's is dropped as before.
                if (context.TrackingId is not null) context.Result = result;
                break;
        }
    }

    /// <summary>The result of a completed Task&lt;T&gt;; null for a plain Task.</summary>
    private static object? ResultOf(Task task)
    {
        var type = task.GetType();
        while (type is not null && !(type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>))) type = type.BaseType;
        var value = type?.GetProperty(nameof(Task<int>.Result))?.GetValue(task);
        // Task<VoidTaskResult> and the like: an async method without a value.
        return value is not null && value.GetType().FullName == "System.Threading.Tasks.VoidTaskResult" ? null : value;
    }

    private object?[] Bind(TaskContext context)
    {
        var task = context.Task;
        var values = new object?[_parameters.Length];
        var given = new bool[_parameters.Length];
        void Set(ParameterInfo parameter, object? value)
        {
            var path = task.Name == Name ? _bindingPaths[parameter.Position] : BindingPath(task.Name, parameter);
            values[parameter.Position] = ValueConverter.Convert(value, parameter.ParameterType, path);
            given[parameter.Position] = true;
        }

        var positional = task.Format == TaskFormat.Go ? task.GoArguments(_dataParameters.Length) : task.Arguments;
        if (positional.Count > _dataParameters.Length)
            throw new TaskBindingException($"Task '{task.Name}' gives {positional.Count} positional argument(s), but {Signature} takes {_dataParameters.Length}.");
        for (var i = 0; i < positional.Count; i++) Set(_dataParameters[i], positional[i]);

        foreach (var pair in task.NamedArguments)
        {
            var parameter = _dataParameters.FirstOrDefault(p => string.Equals(p.Name, pair.Key, StringComparison.OrdinalIgnoreCase))
                ?? throw new TaskBindingException($"Task '{task.Name}' names a parameter '{pair.Key}' that {Signature} does not have.");
            if (given[parameter.Position]) throw new TaskBindingException($"Task '{task.Name}' gives parameter '{parameter.Name}' both by position and by name.");
            Set(parameter, pair.Value);
        }

        foreach (var parameter in _parameters)
        {
            if (given[parameter.Position]) continue;
            if (parameter.ParameterType == typeof(CancellationToken)) values[parameter.Position] = context.CancellationToken;
            else if (parameter.HasDefaultValue) values[parameter.Position] = parameter.DefaultValue is DBNull ? null : parameter.DefaultValue;
            else if (parameter.IsOptional) values[parameter.Position] = Type.Missing;
            else throw new TaskBindingException($"Task '{task.Name}' gives no value for parameter '{parameter.Name}' of {Signature}.");
        }
        return values;
    }
}
