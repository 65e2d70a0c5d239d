using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
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

    private static Process StartHost(RedisFixture redis, string queue, string mode)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { WorkerHostPath(), redis.Server.Configuration, queue, "1", mode }) start.ArgumentList.Add(argument);
        return Process.Start(start)!;
    }

    private static Task KillAfterAsync(Process host, int milliseconds) => KillWhenAsync(host, () => Task.Delay(milliseconds));

    private static async Task KillWhenAsync(Process host, Func<Task> until)
    {
        try
        {
            Assert.Equal("running", await host.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
            await until();
        }
        finally
        {
            host.Kill(); // SIGKILL at once: the process is a single dotnet process
            await host.WaitForExitAsync();
            host.Dispose();
        }
    }

    /// <summary>Every task's bytes wherever a task can be: the list, the slots, the schedule, the failed store.</summary>
    private async Task<List<string>> EverywhereAsync(Delayed.Core.Queue.DelayedQueue queue)
    {
        var all = new List<string>();
        foreach (var t in await _redis.Db.ListRangeAsync(queue.Keys.Tasks)) all.Add(Convert.ToBase64String((byte[])t!));
        foreach (var t in await _redis.Db.HashValuesAsync(queue.Keys.Processing)) all.Add(Convert.ToBase64String((byte[])t!));
        foreach (var t in await queue.GetScheduledAsync()) all.Add(Convert.ToBase64String(t.Raw));
        foreach (var t in await queue.GetFailedAsync()) all.Add(Convert.ToBase64String(t.Raw));
        return all;
    }

    [Fact]
    public async Task WorkersKilledAgainAndAgainWhileTheyRescheduleFailuresLoseAndDuplicateNoTask()
    {
        var queue = _redis.NewQueue();
        queue.MaxRecoveries = 0; // count every task where it is; none is taken out as lost
        var tasks = Enumerable.Range(0, 200).Select(i => TaskEncoder.EncodePython("test:fail", new object[] { i }, null, -1)).ToList();
        await queue.EnqueueAsync(tasks);
        var random = new Random(7);
        long rescheduled = 0;
        for (var round = 0; round < 8; round++)
        {
            var host = StartHost(_redis, queue.Name, "churn");
            await KillAfterAsync(host, random.Next(100, 400));
            rescheduled += (await queue.GetScheduledAsync()).Count;
        }
        // The premise: the killed workers were busy rescheduling, not idle.
        Assert.True(rescheduled > 0, "no task was ever waiting out its back-off when a worker was killed");
        await Eventually.True(async () => (await _redis.Db.HashKeysAsync(queue.Keys.Processing)).All(id => !_redis.Db.KeyExists((string)id!)),
            "the killed workers' liveness keys did not expire", 15);
        await queue.SweepAsync();
        await Eventually.True(async () => { await queue.PromoteAsync(); return (await queue.GetScheduledAsync()).Count == 0; }, "scheduled tasks did not come due", 10);
        await queue.SweepAsync();
        var everywhere = await EverywhereAsync(queue);
        Assert.Equal(tasks.Select(Convert.ToBase64String).OrderBy(t => t), everywhere.OrderBy(t => t));
        Assert.Equal(200, await queue.GetLengthAsync());
        Assert.Equal(200, await _redis.Db.ListLengthAsync(queue.Keys.Tokens));
    }

    [Fact]
    public async Task ASweeperKilledWhilePromotingLosesAndDuplicatesNoTask()
    {
        const int count = 50_000;
        var tasks = Enumerable.Range(0, count).Select(i => TaskEncoder.EncodePython("m:due", new object[] { i }, null, 0)).ToList();
        // The kill must land while batches remain: it usually does on the first try; a kill that came too late
        // proves nothing, so the scenario runs again on a fresh queue.
        for (var attempt = 1; ; attempt++)
        {
            var queue = _redis.NewQueue();
            foreach (var chunk in tasks.Chunk(10_000)) await queue.ScheduleAsync(chunk.Select(t => (t, (TimeSpan?)TimeSpan.Zero, (DateTimeOffset?)null)).ToList());
            var host = StartHost(_redis, queue.Name, "sweep");
            await KillWhenAsync(host, async () =>
            {
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (await queue.GetLengthAsync() == 0 && DateTime.UtcNow < deadline) { }
            });
            var promoted = await queue.GetLengthAsync();
            Assert.True(promoted > 0, "the sweeper never promoted");
            if (promoted == count)
            {
                Assert.True(attempt < 10, "the sweeper always finished before it was killed");
                continue;
            }
            Assert.Equal(count, promoted + (await queue.GetScheduledAsync()).Count);
            Assert.Equal(promoted, await _redis.Db.ListLengthAsync(queue.Keys.Tokens)); // each promotion moved tasks with their tokens
            while (await queue.PromoteAsync() > 0) { }
            var everywhere = await EverywhereAsync(queue);
            Assert.Equal(tasks.Select(Convert.ToBase64String).OrderBy(t => t), everywhere.OrderBy(t => t));
            return;
        }
    }

    [Fact]
    public async Task AWorkerPausedPastItsKeepAliveNoticesTheLapse_RegistersAgain_AndSaysItsTaskWasRecovered()
    {
        var queue = _redis.NewQueue();
        await queue.EnqueueAsync(TaskEncoder.EncodePython("test:slow", null, null, 0));
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { WorkerHostPath(), _redis.Server.Configuration, queue.Name, "2", "slow" }) start.ArgumentList.Add(argument);
        using var host = Process.Start(start)!;
        try
        {
            async Task<string> LineAsync(string prefix)
            {
                while (true)
                {
                    var line = await host.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
                    if (line is null) throw new InvalidOperationException("the worker ended");
                    if (line.StartsWith(prefix, StringComparison.Ordinal)) return line;
                }
            }
            var workerId = (await LineAsync("claimed ")).Substring("claimed ".Length);
            Process.Start("kill", new[] { "-STOP", host.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) })!.WaitForExit();
            await Eventually.True(async () => !await _redis.Db.KeyExistsAsync(workerId), "the paused worker's liveness key did not expire", 15);
            var sweep = await queue.SweepAsync();
            Assert.Equal(1, sweep.Recovered);
            Assert.False(await _redis.Db.HashExistsAsync(queue.Keys.Workers, workerId)); // the sweep dropped its registration
            Process.Start("kill", new[] { "-CONT", host.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) })!.WaitForExit();

            Assert.Contains("had lapsed", await LineAsync("event WorkerError"));
            Assert.True(await _redis.Db.HashExistsAsync(queue.Keys.Workers, workerId), "the worker did not register again");
            Assert.True(await _redis.Db.KeyExistsAsync(workerId));
            Assert.Contains("A sweep recovered this task", await LineAsync("event TaskSucceeded"));
            Assert.Single(await queue.GetWorkersAsync(), w => w.WorkerId == workerId);
        }
        finally
        {
            host.Kill();
            await host.WaitForExitAsync();
        }
    }
}
