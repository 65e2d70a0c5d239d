// A worker process for crash tests: `WorkerHost <redis> <queue> <keep-alive seconds>`.
// Its only handler, "test:hang", prints "claimed <worker id>" and then waits forever, so the test can
// kill the process with SIGKILL while it holds the task.
using System;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using Delayed.Core.Worker;

var connection = await DelayedConnection.ConnectAsync(args[0]);
var queue = new DelayedQueue(connection, args[1]);
var keepAlive = TimeSpan.FromSeconds(int.Parse(args[2]));
var options = new WorkerOptions
{
    KeepAliveTimeout = keepAlive,
    KeepAliveInterval = TimeSpan.FromTicks(keepAlive.Ticks / 4),
    DequeueTimeout = TimeSpan.FromMilliseconds(100),
};
await new DelayedWorker(queue, new HangRegistry(), options).RunAsync();

sealed class HangRegistry : ITaskHandlerRegistry, ITaskHandler
{
    public ITaskHandler? Resolve(string name) => name == "test:hang" ? this : null;

    public async Task InvokeAsync(TaskContext context)
    {
        Console.Out.WriteLine("claimed " + context.WorkerId);
        Console.Out.Flush();
        await Task.Delay(Timeout.Infinite);
    }
}
