// A worker or sweeper process for crash tests, to be killed with SIGKILL at any instant.
//   WorkerHost <redis> <queue> <keep-alive seconds>          its only handler, "test:hang", prints "claimed <worker id>"
//                                                            and waits forever, so the test can kill it while it holds a task
//   WorkerHost <redis> <queue> <keep-alive seconds> churn    4 slots whose only handler, "test:fail", always fails: with an
//                                                            unlimited budget and a 5 ms back-off every task goes round
//                                                            queue, slot, schedule, queue as fast as it can; prints "running"
//   WorkerHost <redis> <queue> <keep-alive seconds> sweep    a sweeper (and its promotion loop); prints "running"
//   WorkerHost <redis> <queue> <keep-alive seconds> slow     its only handler, "test:slow", prints "claimed <worker id>"
//                                                            and returns after 5 s; every worker event is printed as
//                                                            "event <kind> <error message>", so a test can pause it
//                                                            (SIGSTOP) past its keep-alive and read what it says
using System;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using Delayed.Core.Sweeper;
using Delayed.Core.Worker;

var connection = await DelayedConnection.ConnectAsync(args[0]);
var queue = new DelayedQueue(connection, args[1]);
var keepAlive = TimeSpan.FromSeconds(int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
var mode = args.Length > 3 ? args[3] : "hang";
if (mode == "sweep")
{
    var sweeper = new DelayedSweeper(new[] { queue }, TimeSpan.FromMilliseconds(50));
    Console.Out.WriteLine("running");
    Console.Out.Flush();
    await sweeper.RunAsync(CancellationToken.None);
    return;
}
var options = new WorkerOptions
{
    KeepAliveTimeout = keepAlive,
    DequeueTimeout = TimeSpan.FromMilliseconds(100),
    Concurrency = mode == "churn" ? 4 : 1,
    RetryDelay = TimeSpan.FromMilliseconds(5),
    MaxRetryDelay = TimeSpan.FromMilliseconds(5),
    OnEvent = mode == "slow" ? e => { Console.Out.WriteLine($"event {e.Kind} {e.Error?.Message}"); Console.Out.Flush(); } : null,
};
var worker = new DelayedWorker(queue, new HostRegistry(mode), options);
var run = worker.RunAsync();
if (mode == "churn")
{
    Console.Out.WriteLine("running");
    Console.Out.Flush();
}
await run;

sealed class HostRegistry : ITaskHandlerRegistry, ITaskHandler
{
    private readonly string _mode;

    public HostRegistry(string mode) => _mode = mode;

    public ITaskHandler? Resolve(string name) => name == "test:" + (_mode == "churn" ? "fail" : _mode) ? this : null;

    public async Task InvokeAsync(TaskContext context)
    {
        if (_mode == "churn") throw new InvalidOperationException("fails every time");
        Console.Out.WriteLine("claimed " + context.WorkerId);
        Console.Out.Flush();
        await Task.Delay(_mode == "slow" ? TimeSpan.FromSeconds(5) : Timeout.InfiniteTimeSpan);
    }
}
