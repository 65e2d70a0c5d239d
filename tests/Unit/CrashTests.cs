using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using Delayed.Core.Codec;
using Delayed.Core.Worker;
using Xunit;

namespace Delayed.Tests;

/// <summary>At-least-once under SIGKILL: a task claimed by a killed worker is swept back and runs again.</summary>
[Collection("redis")]
public class CrashTests
{
    private readonly RedisFixture _redis;

    public CrashTests(RedisFixture redis) => _redis = redis;

    private static string WorkerHostPath()
    {
        // tests/Unit/bin/<Configuration>/net10.0/ -> tests/WorkerHost/bin/<Configuration>/net10.0/
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = here.Parent!.Name;
        var tests = here.Parent.Parent!.Parent!.Parent!.FullName;
        return Path.Combine(tests, "WorkerHost", "bin", configuration, here.Name, "Delayed.WorkerHost.dll");
    }

    [Fact]
    public async Task AKilledWorkersTaskIsRecoveredOnceItsKeyExpiresAndRunsAgain()
    {
        var queue = _redis.NewQueue();
        var task = TaskEncoder.EncodePython("test:hang", new object[] { "payload" }, null, 0);
        await queue.EnqueueAsync(task);

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { WorkerHostPath(), _redis.Server.Configuration, queue.Name, "2" }) start.ArgumentList.Add(argument);
        using var host = Process.Start(start)!;
        string workerId;
        try
        {
            var line = await host.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.StartsWith("claimed ", line);
            workerId = line!.Substring("claimed ".Length);
            Assert.Equal(task, (byte[])(await _redis.Db.HashGetAsync(queue.Keys.Processing, workerId))!);
        }
        finally
        {
            host.Kill(entireProcessTree: true); // SIGKILL: no release, no DEL
            await host.WaitForExitAsync();
        }

        // While the liveness key lives, the task is left alone.
        Assert.True(await _redis.Db.KeyExistsAsync(workerId));
        Assert.Equal(0, (await queue.SweepAsync()).Recovered);

        await Eventually.True(async () => !await _redis.Db.KeyExistsAsync(workerId), "the killed worker's liveness key did not expire", 10);
        var sweep = await queue.SweepAsync();
        Assert.Equal(1, sweep.Recovered);
        Assert.Equal(task, (byte[])(await _redis.Db.ListGetByIndexAsync(queue.Keys.Tasks, 0))!);

        string? ranWith = null;
        var summary = await new DelayedWorker(queue, new DelegateRegistry().Add("test:hang", c => { ranWith = (string?)c.Task.Arguments[0]; }),
            new WorkerOptions { StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100) }).RunAsync();
        Assert.Equal(1, summary.Succeeded);
        Assert.Equal("payload", ranWith);
        Assert.Equal(0, await _redis.Db.HashLengthAsync(queue.Keys.Processing));
    }
}
