using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading.Tasks;
using Delayed.Core.Worker;

namespace Delayed.Tests;

/// <summary>A registry of test handlers, each a delegate.</summary>
internal sealed class DelegateRegistry : ITaskHandlerRegistry
{
    private readonly Dictionary<string, ITaskHandler> _handlers = new();

    public DelegateRegistry Add(string name, Func<TaskContext, Task> handler)
    {
        _handlers[name] = new DelegateHandler(handler);
        return this;
    }

    public DelegateRegistry Add(string name, Action<TaskContext> handler) =>
        Add(name, context => { handler(context); return Task.CompletedTask; });

    public ITaskHandler? Resolve(string name) => _handlers.TryGetValue(name, out var handler) ? handler : null;

    private sealed class DelegateHandler : ITaskHandler
    {
        private readonly Func<TaskContext, Task> _run;
        public DelegateHandler(Func<TaskContext, Task> run) => _run = run;
        public Task InvokeAsync(TaskContext context) => _run(context);
    }
}

/// <summary>Collects worker events from any thread.</summary>
internal sealed class EventLog
{
    public ConcurrentQueue<WorkerEvent> Events { get; } = new();

    public void Add(WorkerEvent e) => Events.Enqueue(e);

    public List<WorkerEvent> Of(WorkerEventKind kind) => new(System.Linq.Enumerable.Where(Events, e => e.Kind == kind));
}
