// The core benchmark: `./build.ps1 bench` (or `dotnet run -c Release --project bench/Delayed.Bench`).
// Starts its own redis-server on loopback, measures, prints one line per figure, stops the server.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Delayed.Bench;
using Delayed.Core.Codec;
using Delayed.Core.Queue;
using Delayed.Core.Redis;
using Delayed.Core.Worker;
using Delayed.Testing;

using var server = new LocalRedisServer();
using var connection = await DelayedConnection.ConnectAsync(server.Configuration);
var queueNumber = 0;
DelayedQueue NewQueue() => new(connection, $"bench{++queueNumber}");
var task = TaskEncoder.EncodePython("bench:noop", new object[] { 1, "two" }, null, 0);

Console.WriteLine($"Delayed core benchmark: {Environment.ProcessorCount} cores, .NET {Environment.Version}, Redis on 127.0.0.1:{server.Port}");
if (args.Contains("recurring"))
{
    var (f50, f99, n) = await RecurringDelay(TimeSpan.FromSeconds(60));
    Report($"recurring run firing delay p50 ({n} runs)", f50, "ms");
    Report("recurring run firing delay p99", f99, "ms");
    return;
}
if (args.Contains("queues"))
{
    // The same drains from three queues as from one, alternately: what serving several queues costs.
    // Beside each rate, the server's CPU per task (its own user and system time over the drain): with eight slots
    // Redis is the bound, and what a claim of several queues costs shows there first.
    await Drain(10_000, 1, 3);
    for (var round = 0; round < 3; round++)
    {
        foreach (var (queues, slots, count) in new[] { (1, 1, 51_000), (3, 1, 51_000), (1, 8, 102_000), (3, 8, 102_000) })
        {
            var label = $"drain, {queues} queue{(queues > 1 ? "s" : "")}, {slots} slot{(slots > 1 ? "s" : "")}";
            await ReportWithServer(label, count, () => Drain(count, slots, queues));
            if (queues > 1) await ReportWithServer(label + ", all in the first", count, () => Drain(count, slots, queues, firstOnly: true));
        }
    }
    return;
}
if (args.Contains("commands"))
{
    // Where Redis's time goes to enqueue and drain, tracked and not: per task, the calls and time of each command
    // (those the scripts run count too, INFO commandstats); a script's own time less its commands' is the Lua around them.
    await Drain(10_000, 1, tracked: true);
    foreach (var tracked in new[] { false, true })
    {
        var before = CommandStats();
        await Drain(50_000, 8, tracked: tracked);
        Console.WriteLine($"enqueue in batches, drain with 8 slots, {(tracked ? "tracked" : "untracked")}: per task");
        foreach (var (command, (calls, usec)) in CommandStats().OrderByDescending(c => c.Value.Usec))
        {
            var (callsBefore, usecBefore) = before.GetValueOrDefault(command);
            if (calls - callsBefore >= 50_000 / 2)
                Console.WriteLine($"  {command,-16} {(calls - callsBefore) / 50_000.0,6:F2} calls {(usec - usecBefore) / 50_000.0,8:F2} µs");
        }
    }
    return;
}
if (args.Contains("tracked"))
{
    // What tracking costs, alternately: the same enqueue and drain with every task tracked and with none, and the
    // bytes Redis holds per ended task's record (a no-op handler's: no output).
    await Drain(10_000, 1);
    await Drain(10_000, 1, tracked: true);
    for (var round = 0; round < 3; round++)
    {
        ReportRun("enqueue batched, untracked", await EnqueueBatched(200_000, 1000));
        ReportRun("enqueue batched, tracked", await EnqueueTracked(200_000, 1000));
        await ReportWithServer("drain, 1 slot, untracked", 50_000, () => Drain(50_000, 1));
        await ReportWithServer("drain, 1 slot, tracked", 50_000, () => Drain(50_000, 1, tracked: true));
        await ReportWithServer("drain, 8 slots, untracked", 100_000, () => Drain(100_000, 8));
        await ReportWithServer("drain, 8 slots, tracked", 100_000, () => Drain(100_000, 8, tracked: true));
    }
    await connection.Database.ExecuteAsync("FLUSHALL");
    var before = UsedMemory();
    await Drain(100_000, 8, tracked: true);
    Report("Redis memory per ended tracked task (record kept)", (UsedMemory() - before) / 100_000.0, "bytes");
    return;
}
if (args.Contains("metrics"))
{
    // What the measurements cost the worker, alternately: drains with no listener of the Delayed meter, and with the
    // Prometheus endpoint listening (every measurement recorded) and scraped once a second as Prometheus would.
    await Drain(10_000, 1);
    for (var round = 0; round < 3; round++)
    {
        ReportRun("drain, 1 slot, no metrics listener", await Drain(50_000, 1));
        ReportRun("drain, 8 slots, no metrics listener", await Drain(100_000, 8));
        using (var endpoint = Delayed.Core.Telemetry.MetricsEndpoint.Start(Array.Empty<DelayedQueue>(), "127.0.0.1", Scraping.FreePort()))
        using (var scraping = new CancellationTokenSource())
        {
            var scraper = Scraping.Scrape(endpoint.Url, scraping.Token);
            ReportRun("drain, 1 slot, Prometheus endpoint", await Drain(50_000, 1));
            ReportRun("drain, 8 slots, Prometheus endpoint", await Drain(100_000, 8));
            scraping.Cancel();
            await scraper;
        }
    }
    return;
}
if (args.Contains("enqueue"))
{
    // The enqueue figures alone, three rounds: one caller, 64 at once, batches.
    await EnqueueSequential(5_000);
    EnqueueSequentialOnOwnThread(5_000);
    await WarmMultiplexedEnqueue();
    for (var round = 0; round < 3; round++)
    {
        ReportRun("enqueue one by one (sequential)", await EnqueueSequential(20_000));
        ReportRun("enqueue one by one (a thread of its own)", EnqueueSequentialOnOwnThread(20_000));
        ReportRun("enqueue one by one (64 concurrent callers)", await EnqueueConcurrent(100_000, 64));
        ReportRun("enqueue fanned out (Task.WhenAll of 20,000 calls)", await EnqueueFannedOut(20_000));
        ReportRun("enqueue batched (1,000 per call)", await EnqueueBatched(200_000, 1000));
    }
    return;
}
if (args.Contains("tls"))
{
    // Over TLS (a private CA made for the run, as the tests do), alternately: the paths on the module's own connections
    // (since the nineteenth session) and the same work through the multiplexer, five rounds.
    using var certificates = new TestCertificates();
    using var tlsServer = LocalRedisServer.StartTls(certificates.ServerArguments());
    using var tlsConnection = await DelayedConnection.ConnectAsync(tlsServer.Configuration, new TlsSettings(TlsSettings.ReadCertificateAuthorities(certificates.CaFile)));
    var tlsQueues = 0;
    DelayedQueue TlsQueue() => new(tlsConnection, $"tls{++tlsQueues}");
    Run OwnThread(int count) => EnqueueSequentialOnOwnThread(count, queue: TlsQueue());
    Task<Run> FromThePool(int count) => EnqueueSequential(count, queue: TlsQueue());
    Task<Run> TlsDrain(int count, bool direct) => Drain(count, 1, direct: direct, newQueue: TlsQueue);
    OwnThread(2_000);
    await FromThePool(2_000);
    await TlsDrain(5_000, true);
    await TlsDrain(5_000, false);
    for (var round = 0; round < 5; round++)
    {
        ReportRun("TLS: enqueue one by one, a thread of its own (own connection)", OwnThread(10_000));
        ReportRun("TLS: enqueue one by one, sequential awaits on the pool (pipelined)", await FromThePool(10_000));
        tlsConnection.PipelinesEnqueues = false;
        ReportRun("TLS: enqueue one by one, sequential awaits (multiplexer)", await FromThePool(10_000));
        tlsConnection.PipelinesEnqueues = true;
        ReportRun("TLS: drain, 1 slot, claims on its own connection", await TlsDrain(10_000, true));
        ReportRun("TLS: drain, 1 slot, claims through the multiplexer", await TlsDrain(10_000, false));
    }
    return;
}
if (args.Contains("go"))
{
    // Side by side with the Go stand-in (bench/go-standin, GoStandIn.cs), three rounds of 20,000 tasks, alternating:
    // the issue's comparison with the Go implementation, which cannot be fetched here. The tasks are Go-shaped
    // (main.Noop(1, "two")), encoded by each enqueue call on both sides and run on both by a no-op of two parameters
    // bound from each task (ours a .NET handler method, the stand-in's a Go function called by reflection). Our drains
    // are timed from the worker's start (registration, connections), the stand-in's from its first command.
    var standIn = new GoStandIn(GoStandIn.Built ?? throw new InvalidOperationException(
        "The Go stand-in is not built: run `./build.ps1 bench -Go`, which installs Go and redigo (Debian's packages) and builds bench/go-standin."), server.Port);
    byte[] EncodeGoTask() => TaskEncoder.EncodeGo("main.Noop", new object?[] { 1, "two" });
    DelayedQueue Filled(int count)
    {
        var queue = NewQueue();
        var batch = Enumerable.Repeat(EncodeGoTask(), 1000).ToArray();
        for (var sent = 0; sent < count; sent += batch.Length) queue.EnqueueAsync(batch).GetAwaiter().GetResult();
        return queue;
    }
    Task<Run> OurDrain(int count, int slots) => Drain(count, slots, registry: GoShapedHandlers.Registry(), drained: EncodeGoTask());
    // The stand-in's premise: it writes the bytes our Go-shaped encoding writes, and runs what ours enqueues.
    var check = NewQueue();
    standIn.Enqueue(check.Name, 1);
    var written = (byte[])(await connection.Database.ListLeftPopAsync(check.Keys.Tasks))!;
    if (!written.AsSpan().SequenceEqual(EncodeGoTask())) throw new InvalidOperationException("The Go stand-in's task differs from ours: " + Convert.ToHexString(written));
    await EnqueueSequential(5_000, EncodeGoTask);
    EnqueueSequentialOnOwnThread(5_000, EncodeGoTask);
    await OurDrain(5_000, 1);
    await OurDrain(5_000, 2);
    standIn.Drain(Filled(5_000).Name, 1, 5_000);
    var figures = new List<(string Label, Run Run)>();
    void Add(string label, Run run)
    {
        ReportRun(label, run);
        figures.Add((label, run));
    }
    for (var round = 0; round < 3; round++)
    {
        Add("ours: enqueue one by one, sequential awaits", await EnqueueSequential(20_000, EncodeGoTask));
        Add("ours: enqueue one by one, a thread of its own", EnqueueSequentialOnOwnThread(20_000, EncodeGoTask));
        Add("Go stand-in: enqueue one by one", standIn.Enqueue(NewQueue().Name, 20_000));
        Add("ours: drain, .NET handler, 1 slot", await OurDrain(20_000, 1));
        Add("Go stand-in: drain, 1 worker", standIn.Drain(Filled(20_000).Name, 1, 20_000));
        Add("ours: drain, .NET handler, 2 slots", await OurDrain(20_000, 2));
        Add("Go stand-in: drain, 2 worker processes", standIn.Drain(Filled(20_000).Name, 2, 20_000));
    }
    double Median(string label)
    {
        var rates = figures.Where(f => f.Label == label).Select(f => f.Run.TasksPerSecond).Order().ToArray();
        return rates[rates.Length / 2];
    }
    Console.WriteLine("Medians of the three rounds, ours / Go stand-in:");
    foreach (var (ours, go) in new[]
    {
        ("ours: enqueue one by one, sequential awaits", "Go stand-in: enqueue one by one"),
        ("ours: enqueue one by one, a thread of its own", "Go stand-in: enqueue one by one"),
        ("ours: drain, .NET handler, 1 slot", "Go stand-in: drain, 1 worker"),
        ("ours: drain, .NET handler, 2 slots", "Go stand-in: drain, 2 worker processes"),
    })
    {
        Console.WriteLine($"  {ours,-48} {Median(ours),10:N0} / {Median(go),10:N0} = x{Median(ours) / Median(go):N2}");
    }
    return;
}
if (args.Contains("floor"))
{
    // Ours, StackExchange.Redis alone, and the floor of a synchronous client (RespFloor), alternately: what the
    // worker and the client library each cost, quiet or under `stress-ng --cpu 2` (bench -Contended).
    await EnqueueSequential(2_000);
    await Drain(5_000, 1);
    await LibraryDrain(5_000);
    FloorEnqueue(2_000);
    FloorDrain(5_000);
    EnqueueSequentialOnOwnThread(2_000);
    for (var round = 0; round < 5; round++)
    {
        ReportRun("enqueue one by one (sequential)", await EnqueueSequential(10_000));
        ReportRun("enqueue one by one (a thread of its own)", EnqueueSequentialOnOwnThread(10_000));
        ReportRun("floor: enqueue one by one (sequential)", FloorEnqueue(10_000));
        ReportRun("drain, no-op handler, 1 slot", await Drain(10_000, 1));
        ReportRun("library alone: drain, 1 slot", await LibraryDrain(10_000));
        ReportRun("floor: drain, 1 slot", FloorDrain(10_000));
    }
    return;
}
if (args.Contains("direct"))
{
    // The busy slots' claims on their own connections, and through the multiplexer, alternately.
    await Drain(10_000, 1);
    await Drain(10_000, 1, direct: false);
    for (var round = 0; round < 4; round++)
    {
        foreach (var direct in new[] { true, false })
        {
            var (l50, l99) = await Latency(500, direct);
            Report($"latency p50, {(direct ? "direct claims" : "through the multiplexer")}", l50, "ms");
            Report($"latency p99, {(direct ? "direct claims" : "through the multiplexer")}", l99, "ms");
        }
        ReportRun("drain, 1 slot, direct claims", await Drain(20_000, 1));
        ReportRun("drain, 1 slot, through the multiplexer", await Drain(20_000, 1, direct: false));
        ReportRun("drain, 2 slots, direct claims", await Drain(30_000, 2));
        ReportRun("drain, 2 slots, through the multiplexer", await Drain(30_000, 2, direct: false));
        ReportRun("drain, 8 slots, direct claims", await Drain(50_000, 8));
        ReportRun("drain, 8 slots, through the multiplexer", await Drain(50_000, 8, direct: false));
    }
    return;
}
if (args.Contains("latency"))
{
    // Enqueue-to-start into an idle worker alone, five rounds of 1,000: for comparing two builds run alternately.
    await Latency(200);
    await Latency(200, ownThread: true);
    for (var round = 0; round < 5; round++)
    {
        var (p50Round, p99Round) = await Latency(1000);
        Report("enqueue-to-start latency p50", p50Round, "ms");
        Report("enqueue-to-start latency p99", p99Round, "ms");
        (p50Round, p99Round) = await Latency(1000, ownThread: true);
        Report("enqueue-to-start latency p50, enqueue on its own thread", p50Round, "ms");
        Report("enqueue-to-start latency p99, enqueue on its own thread", p99Round, "ms");
    }
    return;
}
if (args.Contains("due"))
{
    // Scheduled tasks into an idle worker, five rounds: the due-to-start figure alone, with its worst sample.
    for (var round = 0; round < 5; round++)
    {
        var (p50Due, p99Due) = await DueToStart(100);
        Report("due-to-start latency p50 (idle worker)", p50Due, "ms");
        Report("due-to-start latency p99 (idle worker)", p99Due, "ms");
    }
    return;
}
if (args.Contains("drain"))
{
    // Only the worker's hot path, five times: for comparing two builds run alternately.
    await Drain(10_000, 1);
    for (var round = 0; round < 5; round++)
    {
        ReportRun("drain, no-op handler, 1 slot", await Drain(50_000, 1));
        ReportRun("drain, no-op handler, 8 slots", await Drain(100_000, 8));
    }
    return;
}
// Every path once before measuring: the figures are steady-state rates, not JIT tiering and first connects.
await EnqueueSequential(5_000);
await WarmMultiplexedEnqueue();
await EnqueueBatched(20_000, 1000);
await Drain(5_000, 1);
await Drain(10_000, 8);
await Latency(200);
await Latency(200, ownThread: true);
EnqueueSequentialOnOwnThread(5_000);
var sequential = await EnqueueSequential(20_000);
ReportRun("enqueue one by one (sequential)", sequential);
var ownThread = EnqueueSequentialOnOwnThread(20_000);
ReportRun("enqueue one by one (a thread of its own)", ownThread);
ReportRun("enqueue one by one (64 concurrent callers)", await EnqueueConcurrent(100_000, 64));
ReportRun("enqueue batched (1,000 per call)", await EnqueueBatched(500_000, 1000));
var oneSlot = await Drain(50_000, 1);
ReportRun("drain, no-op handler, 1 slot", oneSlot);
ReportRun("drain, no-op handler, 8 slots", await Drain(100_000, 8));
// The floor a synchronous client reaches with the same commands (RespFloor), and ours as a share of it.
FloorEnqueue(2_000);
FloorDrain(5_000);
var floorSequential = FloorEnqueue(20_000);
ReportRun("floor: enqueue one by one (sequential)", floorSequential);
Report("  ours / floor", sequential.TasksPerSecond / floorSequential.TasksPerSecond, "");
Report("  ours on a thread of its own / floor", ownThread.TasksPerSecond / floorSequential.TasksPerSecond, "");
var floorDrain = FloorDrain(50_000);
ReportRun("floor: drain, 1 slot", floorDrain);
Report("  ours / floor", oneSlot.TasksPerSecond / floorDrain.TasksPerSecond, "");
var (p50, p99) = await Latency(1000);
Report("enqueue-to-start latency p50", p50, "ms");
Report("enqueue-to-start latency p99", p99, "ms");
(p50, p99) = await Latency(1000, ownThread: true);
Report("enqueue-to-start latency p50, enqueue on its own thread", p50, "ms");
Report("enqueue-to-start latency p99, enqueue on its own thread", p99, "ms");
ReportRun("promote due tasks (schedule to queue)", await Promote(200_000));
var (due50, due99) = await DueToStart(100);
Report("due-to-start latency p50 (idle worker)", due50, "ms");
Report("due-to-start latency p99 (idle worker)", due99, "ms");
var (fire50, fire99, ticks) = await RecurringDelay(TimeSpan.FromSeconds(60));
Report($"recurring run firing delay p50 ({ticks} runs of a schedule of every second, one worker)", fire50, "ms");
Report("recurring run firing delay p99", fire99, "ms");
Report("managed heap after all runs (full GC)", GC.GetTotalMemory(forceFullCollection: true) / 1048576.0, "MiB");
Report("peak working set of this process", Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0, "MiB");

static void ReportRun(string what, Run run)
{
    Report(what, run.TasksPerSecond, "tasks/s");
    if (!double.IsNaN(run.BytesPerTask)) Report("  allocated per task", run.BytesPerTask, "bytes");
    Report("  client CPU per task", run.CpuMicrosecondsPerTask, "µs");
    Report("  of which user mode", run.UserCpuMicrosecondsPerTask, "µs");
    Console.Write(run.Threads);
}

static void Report(string what, double value, string unit) =>
    Console.WriteLine($"{what,-45} {value,12:N2} {unit}");

// One caller awaiting each enqueue on the thread pool, as a service's code does (through the multiplexer). With encode,
// each task is encoded by the call that sends it, as a caller of the Go implementation's enqueue has it done; queue: one
// of another connection (the tls mode's).
Task<Run> EnqueueSequential(int count, Func<byte[]>? encode = null, DelayedQueue? queue = null) => Task.Run(async () =>
{
    queue ??= NewQueue();
    var clock = Measure.Start();
    for (var i = 0; i < count; i++) await queue.EnqueueAsync(encode?.Invoke() ?? task);
    return clock.Stop(count);
});

// One caller on a thread of its own, waiting for each enqueue as a PowerShell pipeline or a script's main thread does
// (through the enqueue connection, on that thread).
Run EnqueueSequentialOnOwnThread(int count, Func<byte[]>? encode = null, DelayedQueue? queue = null)
{
    queue ??= NewQueue();
    var run = default(Run);
    var thread = new Thread(() =>
    {
        var clock = Measure.Start();
        for (var i = 0; i < count; i++) queue.EnqueueAsync(encode?.Invoke() ?? task).GetAwaiter().GetResult();
        run = clock.Stop(count);
    });
    thread.Start();
    thread.Join();
    return run;
}

// Twice, a second apart: with the sequential callers off the multiplexer (tried in the sixteenth session), one warm-up of
// 64 callers left its path partly unoptimized by the JIT's tiering and the first measured round of them 40 % low; warmed
// this way, that round is like the others whichever path the sequential calls take.
async Task WarmMultiplexedEnqueue()
{
    await EnqueueConcurrent(10_000, 64);
    await Task.Delay(1000);
    await EnqueueConcurrent(10_000, 64);
}

async Task<Run> EnqueueConcurrent(int count, int callers)
{
    var queue = NewQueue();
    var clock = Measure.Start();
    // Each caller on the thread pool: an enqueue that completes on its caller's thread would otherwise run the callers
    // one after another on the thread that started them.
    await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
    {
        for (var i = 0; i < count / callers; i++) await queue.EnqueueAsync(task);
    })));
    return clock.Stop(count);
}

// Many calls started on the thread pool before any is awaited (Task.WhenAll over a list), as .NET code fans work out.
async Task<Run> EnqueueFannedOut(int count)
{
    var queue = NewQueue();
    return await Task.Run(async () =>
    {
        var clock = Measure.Start();
        var calls = new Task[count];
        for (var i = 0; i < count; i++) calls[i] = queue.EnqueueAsync(task);
        await Task.WhenAll(calls);
        return clock.Stop(count);
    });
}

async Task<Run> EnqueueBatched(int count, int batchSize)
{
    var queue = NewQueue();
    var batch = Enumerable.Repeat(task, batchSize).ToArray();
    var clock = Measure.Start();
    for (var sent = 0; sent < count; sent += batchSize) await queue.EnqueueAsync(batch);
    return clock.Stop(count);
}

async Task<Run> EnqueueTracked(int count, int batchSize)
{
    var queue = NewQueue();
    var clock = Measure.Start();
    for (var sent = 0; sent < count; sent += batchSize)
        await queue.EnqueueTrackedAsync(Enumerable.Range(0, batchSize).Select(_ => new TrackedEnqueue(task, TimeSpan.FromDays(1))).ToArray());
    return clock.Stop(count);
}

// The floor (RespFloor): the same commands from one thread on one socket, each reply read synchronously.
Run FloorEnqueue(int count)
{
    var queue = NewQueue();
    using var floor = new RespFloor(server.Port);
    var clock = Measure.Start();
    for (var i = 0; i < count; i++) floor.Enqueue(queue.Keys, task);
    return clock.Stop(count);
}

Run FloorDrain(int count)
{
    var queue = NewQueue();
    var batch = Enumerable.Repeat(task, 1000).ToArray();
    for (var sent = 0; sent < count; sent += batch.Length) queue.EnqueueAsync(batch).GetAwaiter().GetResult();
    using var floor = new RespFloor(server.Port);
    var clock = Measure.Start();
    var drained = floor.Drain(queue.Keys, $"{queue.Name}_floor_worker");
    var run = clock.Stop(count);
    if (drained != count) throw new InvalidOperationException($"the floor drained {drained} of {count}");
    return run;
}

// StackExchange.Redis alone: the busy claim of one slot (the same script and arguments) awaited in a loop, without the
// worker around it.
async Task<Run> LibraryDrain(int count)
{
    var queue = NewQueue();
    var batch = Enumerable.Repeat(task, 1000).ToArray();
    for (var sent = 0; sent < count; sent += batch.Length) await queue.EnqueueAsync(batch);
    var db = connection.Database;
    var id = $"{queue.Name}_library_worker";
    await db.StringSetAsync(id, "1", TimeSpan.FromMinutes(1));
    var keys = Array.ConvertAll(queue.Keys.All, k => (StackExchange.Redis.RedisKey)k);
    var held = "";
    var claimed = 0;
    var clock = Measure.Start();
    while (true)
    {
        var stamp = (claimed + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var reply = await db.ScriptEvaluateAsync(Delayed.Core.Protocol.LuaScripts.FinishAndClaim, keys,
            new StackExchange.Redis.RedisValue[] { id, "token", stamp, held, "release", int.MaxValue });
        if (reply.IsNull) break;
        held = stamp;
        claimed++;
    }
    var run = clock.Stop(count);
    if (claimed != count) throw new InvalidOperationException($"the library alone drained {claimed} of {count}");
    return run;
}

long UsedMemory()
{
    var info = connection.Database.Execute("INFO", "memory").ToString()!;
    var line = info.Split('\n').First(l => l.StartsWith("used_memory:", StringComparison.Ordinal));
    return long.Parse(line.Substring("used_memory:".Length).Trim(), System.Globalization.CultureInfo.InvariantCulture);
}

double ServerCpuSeconds()
{
    var info = connection.Database.Execute("INFO", "cpu").ToString()!;
    return info.Split('\n').Where(l => l.StartsWith("used_cpu_sys:", StringComparison.Ordinal) || l.StartsWith("used_cpu_user:", StringComparison.Ordinal))
        .Sum(l => double.Parse(l.Substring(l.IndexOf(':') + 1).Trim(), System.Globalization.CultureInfo.InvariantCulture));
}

// A run reported with the server's CPU per task (its own user and system time over the run) and its scripts' own time
// per call (in a drain the claims, almost all of it, without the reading, parsing and replying around them).
async Task ReportWithServer(string label, int count, Func<Task<Run>> run)
{
    var cpu = ServerCpuSeconds();
    var scripts = ScriptStats();
    ReportRun(label, await run());
    Report("  redis CPU per task", (ServerCpuSeconds() - cpu) * 1e6 / count, "µs");
    var (calls, usec) = ScriptStats();
    Report("  redis time per script call", (usec - scripts.Usec) / Math.Max(1, calls - scripts.Calls), "µs");
}

// Redis's own count and time of EVALSHA calls so far.
(long Calls, double Usec) ScriptStats()
{
    var (calls, usec) = CommandStats().GetValueOrDefault("evalsha");
    return ((long)calls, usec);
}

// Redis's own count and time of each command so far (INFO commandstats), by name.
Dictionary<string, (double Calls, double Usec)> CommandStats()
{
    var info = connection.Database.Execute("INFO", "commandstats").ToString()!;
    var stats = new Dictionary<string, (double, double)>();
    foreach (var line in info.Split('\n').Where(l => l.StartsWith("cmdstat_", StringComparison.Ordinal)))
    {
        var fields = line.Split(':', ',');
        double Field(string name) => double.Parse(fields.First(f => f.StartsWith(name + "=", StringComparison.Ordinal)).Substring(name.Length + 1).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        stats[fields[0].Substring("cmdstat_".Length)] = (Field("calls"), Field("usec"));
    }
    return stats;
}

// One worker drains `queues` queues holding `count` tasks in all, in priority order (1: the plain single-queue path),
// spread over them in turn, or all in the first (the others empty, as lower priorities often are). By default the
// queues are the plain connection's, the tasks the no-op ones, run by the core's no-op registry.
async Task<Run> Drain(int count, int slots, int queues = 1, bool tracked = false, bool direct = true, bool firstOnly = false,
    Func<DelayedQueue>? newQueue = null, ITaskHandlerRegistry? registry = null, byte[]? drained = null)
{
    var all = Enumerable.Range(0, queues).Select(_ => (newQueue ?? NewQueue)()).ToArray();
    var batch = Enumerable.Repeat(drained ?? task, 1000).ToArray();
    for (var sent = 0; sent < count; sent += batch.Length)
    {
        var queue = firstOnly ? all[0] : all[sent / batch.Length % queues];
        if (tracked) await queue.EnqueueTrackedAsync(batch.Select(t => new TrackedEnqueue(t, TimeSpan.FromDays(1))).ToArray());
        else await queue.EnqueueAsync(batch);
    }
    var options = new WorkerOptions { Concurrency = slots, StopWhenEmpty = true, DequeueTimeout = TimeSpan.FromMilliseconds(100), DirectClaims = direct };
    var clock = Measure.Start();
    var summary = await new DelayedWorker(all, registry ?? new NoOpRegistry(), options).RunAsync();
    if (summary.Succeeded != count) throw new InvalidOperationException($"drained {summary.Succeeded} of {count}");
    return clock.Stop(count);
}

// ownThread: the enqueues come from a thread of their own, as Add-DelayedTask's from a PowerShell pipeline (the
// enqueue's direct connection); otherwise from the thread pool, through the multiplexer.
async Task<(double P50, double P99)> Latency(int count, bool direct = true, bool ownThread = false)
{
    var queue = NewQueue();
    var registry = new LatencyRegistry();
    using var stop = new CancellationTokenSource();
    var run = new DelayedWorker(queue, registry, new WorkerOptions { DequeueTimeout = TimeSpan.FromSeconds(1), DirectClaims = direct }).RunAsync(stop.Token);
    await Task.Delay(500);
    var samples = new List<double>(count);
    void Sample()
    {
        var started = registry.Arm();
        var sent = Stopwatch.GetTimestamp();
        queue.EnqueueAsync(task).GetAwaiter().GetResult();
        var at = started.GetAwaiter().GetResult();
        samples.Add((at - sent) * 1000.0 / Stopwatch.Frequency);
    }
    if (ownThread)
    {
        var thread = new Thread(() =>
        {
            for (var i = 0; i < count; i++)
            {
                Sample();
                Thread.Sleep(2); // let the worker go idle (back to its blocking wait) before the next task
            }
        });
        thread.Start();
        await Task.Run(thread.Join);
    }
    for (var i = 0; i < count && !ownThread; i++)
    {
        var started = registry.Arm();
        var sent = Stopwatch.GetTimestamp();
        await queue.EnqueueAsync(task);
        var at = await started;
        samples.Add((at - sent) * 1000.0 / Stopwatch.Frequency);
        await Task.Delay(2);
    }
    stop.Cancel();
    await run;
    samples.Sort();
    return (samples[samples.Count / 2], samples[(int)Math.Ceiling(samples.Count * 0.99) - 1]);
}

async Task<Run> Promote(int count)
{
    var queue = NewQueue();
    var batch = Enumerable.Repeat((task, (TimeSpan?)TimeSpan.Zero, (DateTimeOffset?)null), 10_000).ToList();
    for (var sent = 0; sent < count; sent += batch.Count) await queue.ScheduleAsync(batch);
    var promoter = new Delayed.Core.Scheduling.SchedulePromoter(new[] { queue }, (_, e) => throw e);
    var clock = Measure.Start();
    var moved = await promoter.PromoteOnceAsync();
    if (moved != count) throw new InvalidOperationException($"promoted {moved} of {count}");
    return clock.Stop(count);
}

// Tasks due every 150 ms into one idle worker: from the due time (the server's clock, the same machine's) to the
// handler's start. The promoter waits until the soonest due time it saw (PassSpacing); Task.Delay's timer, on a coarse
// clock here, ends such a wait 0-5 ms late (median about 2.7 ms): most of the p50.
async Task<(double P50, double P99)> DueToStart(int count)
{
    var queue = NewQueue();
    var starts = new System.Collections.Concurrent.ConcurrentDictionary<long, DateTimeOffset>();
    var registry = new DueRegistry(starts);
    using var stop = new CancellationTokenSource();
    var run = new DelayedWorker(queue, registry, new WorkerOptions { DequeueTimeout = TimeSpan.FromSeconds(1) }).RunAsync(stop.Token);
    var tasks = Enumerable.Range(0, count).Select(i =>
        (TaskEncoder.EncodePython("bench:due", new object[] { i }, null, 0), (TimeSpan?)TimeSpan.FromMilliseconds(500 + 150 * i), (DateTimeOffset?)null)).ToList();
    await queue.ScheduleAsync(tasks);
    var due = (await queue.GetScheduledAsync()).ToDictionary(e => (long)TaskDecoder.Decode(e.Raw).Arguments[0]!, e => e.DueAt);
    while (starts.Count < count) await Task.Delay(100);
    stop.Cancel();
    await run;
    var samples = due.Select(pair => (starts[pair.Key] - pair.Value).TotalMilliseconds).OrderBy(x => x).ToList();
    var worst = due.MaxBy(pair => starts[pair.Key] - pair.Value);
    Console.WriteLine($"  due-to-start, the latest: task {worst.Key} of {count}, {(starts[worst.Key] - worst.Value).TotalMilliseconds:F2} ms");
    return (samples[samples.Count / 2], samples[(int)Math.Ceiling(samples.Count * 0.99) - 1]);
}

// A schedule of every second fired by one idle worker's promoter: from each run's tick to the moment the firing
// script enqueued it (both the server's clock, as the schedule's run record keeps them).
async Task<(double P50, double P99, int Runs)> RecurringDelay(TimeSpan length)
{
    var queue = NewQueue();
    var store = new Delayed.Core.Scheduling.RecurringScheduleStore(queue);
    await store.RegisterAsync(Delayed.Core.Scheduling.RecurringSchedule.Create("bench", "* * * * * *", "UTC", task));
    using var stop = new CancellationTokenSource();
    var run = new DelayedWorker(queue, new NoOpRegistry(), new WorkerOptions { DequeueTimeout = TimeSpan.FromSeconds(1) }).RunAsync(stop.Token);
    var delays = new Dictionary<DateTimeOffset, double>();
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed < length)
    {
        var status = (await store.GetAsync()).Single();
        if (status.LastTick is { } tick && status.LastFiredAt is { } fired) delays[tick] = (fired - tick).TotalMilliseconds;
        await Task.Delay(50);
    }
    stop.Cancel();
    await run;
    var samples = delays.Values.OrderBy(x => x).ToList();
    return (samples[samples.Count / 2], samples[(int)Math.Ceiling(samples.Count * 0.99) - 1], samples.Count);
}

sealed class DueRegistry : ITaskHandlerRegistry, ISelfDispatchingTaskHandler
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, DateTimeOffset> _starts;

    public DueRegistry(System.Collections.Concurrent.ConcurrentDictionary<long, DateTimeOffset> starts) => _starts = starts;

    public ITaskHandler? Resolve(string name) => this;

    public Task InvokeAsync(TaskContext context)
    {
        _starts[(long)context.Task.Arguments[0]!] = DateTimeOffset.UtcNow;
        return Task.CompletedTask;
    }
}

// Both registries' handlers return at once, so the worker calls them directly (no switch to the slot's handler
// thread): these figures are the engine's own. Handlers that run user code (.NET methods) take that switch; the
// cmdlet benchmark measures them.
sealed class NoOpRegistry : ITaskHandlerRegistry, ISelfDispatchingTaskHandler
{
    public ITaskHandler? Resolve(string name) => this;
    public Task InvokeAsync(TaskContext context) => Task.CompletedTask;
}

sealed class LatencyRegistry : ITaskHandlerRegistry, ISelfDispatchingTaskHandler
{
    private TaskCompletionSource<long> _started = new();

    public Task<long> Arm()
    {
        _started = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        return _started.Task;
    }

    public ITaskHandler? Resolve(string name) => this;

    public Task InvokeAsync(TaskContext context)
    {
        _started.TrySetResult(Stopwatch.GetTimestamp());
        return Task.CompletedTask;
    }
}

/// <summary>
/// One measured run: its rate; the bytes the whole process allocated per task meanwhile; its CPU time per task (every
/// thread, user and system: what the client spends, which on contended cores it must win back from the hogs for every
/// task) and the part of it in user mode (the client's own code; the rest is mostly the loopback's TCP and the waking of
/// threads); and ThreadActivity's lines, when asked for.
/// </summary>
readonly record struct Run(double TasksPerSecond, double BytesPerTask, double CpuMicrosecondsPerTask, double UserCpuMicrosecondsPerTask, string Threads = "");

sealed class Measure
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly long _allocated = GC.GetTotalAllocatedBytes(precise: true);
    private readonly TimeSpan _cpu = Process.GetCurrentProcess().TotalProcessorTime;
    private readonly TimeSpan _userCpu = Process.GetCurrentProcess().UserProcessorTime;
    private readonly ThreadActivity _threads = new();

    public static Measure Start() => new();

    public Run Stop(int count)
    {
        return new Run(count / _clock.Elapsed.TotalSeconds, (GC.GetTotalAllocatedBytes(precise: true) - _allocated) / (double)count,
            (Process.GetCurrentProcess().TotalProcessorTime - _cpu).TotalMicroseconds / count,
            (Process.GetCurrentProcess().UserProcessorTime - _userCpu).TotalMicroseconds / count, _threads.Report(count));
    }
}

/// <summary>The metrics mode's endpoint: a free port, and a scraper as Prometheus would be.</summary>
static class Scraping
{
    public static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public static async Task Scrape(Uri url, CancellationToken stop)
    {
        using var http = new System.Net.Http.HttpClient();
        while (!stop.IsCancellationRequested)
        {
            await http.GetStringAsync(url, CancellationToken.None); // a scrape begun is finished
            await Delayed.Core.QuietDelay.WaitAsync(TimeSpan.FromSeconds(1), stop);
        }
    }
}
