using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;
using static Delayed.Core.Redis.RespWire;

namespace Delayed.Core.Redis;

/// <summary>
/// One worker slot's own synchronous connection to the server of its queue, for the claim script it calls once per
/// task while busy. StackExchange.Redis hands each reply through three or four threads (the socket engine, its pipe, a
/// continuation); each must be woken, and on a machine whose cores are busy each waits for one: its round trips then
/// fall to a tenth of a synchronous client's (bench/README.md, "The floor"). Here one thread writes the call and reads
/// its reply, and the slot's code that awaited it continues on that same thread, so a busy slot runs claim after claim
/// without a thread switch. An idle slot waits here too (<see cref="BlockingPopAsync"/>): the reply that a task was
/// added wakes this thread alone, which claims it and starts its handler. Everything else (keep-alive, sweeps,
/// promotion) stays on the multiplexer. A connection's other use, <see cref="TryEnqueue"/>, serves one enqueuer at a time on the caller's own
/// thread (its own thread is then never started).
/// </summary>
/// <remarks>
/// Any failure (a dropped connection, a timeout, an error reply such as MOVED or READONLY after a failover) throws
/// <see cref="DirectConnectionLostException"/> and closes the socket; the caller then repeats the call through the
/// multiplexer, which the claim script makes safe (a finish happens only while the worker holds that claim, and a claim
/// whose reply was lost is handed back). The connection is opened again on a later call, at most every
/// <see cref="ReopenInterval"/>, to the server the multiplexer then knows for the key.
/// </remarks>
internal sealed class DirectConnection : IDisposable
{
    /// <summary>How long a connection that failed rests before it is opened again (shorter in tests).</summary>
    internal static TimeSpan ReopenInterval { get; set; } = TimeSpan.FromSeconds(10);

    private readonly Func<EndPoint?> _endpoint;
    private readonly bool _followEachCall;
    private readonly ConfigurationOptions _options;
    private readonly DirectTls? _tls;
    private readonly long _maxReplyBytes;
    private readonly string? _clientName;
    private readonly string _queue;
    private string? _prefixScript;
    private RedisKey[]? _prefixKeys;
    private byte[]? _prefix;
    private EndPoint? _connectedTo;
    private long _checkedAt;
    private readonly BlockingCollection<Call> _calls = new();
    private readonly string _threadName;
    private readonly object _gate = new();
    private Thread? _thread;
    private Socket? _socket;
    private BufferedStream? _stream;
    private PolledSocketStream? _polled;
    private readonly ConnectionRest _rest = new();

    /// <param name="endpoint">The server of the slot's keys, asked again at each open (it moves with a failover).</param>
    /// <param name="options">Credentials, database and timeouts (the multiplexer's).</param>
    /// <param name="maxReplyBytes">The largest bulk reply taken (a task at the size limit, and some).</param>
    /// <param name="name">The name of its thread.</param>
    /// <param name="clientName">The name it gives itself on the server (CLIENT SETNAME); null for none.</param>
    /// <param name="queue">The queue whose claims it makes, as its failures are counted; null for the enqueue connection,
    /// whose failures count under the queue of the enqueue.</param>
    /// <param name="followEachCall">Whether <paramref name="endpoint"/> costs nothing (behind sentinels, the primary they
    /// name), so that it is asked before every call rather than once a second: after a failover no call goes to the old
    /// primary, which takes writes until it is made a replica and then drops them.</param>
    /// <param name="tls">How it speaks TLS, as the multiplexer does; null over plain TCP.</param>
    internal DirectConnection(Func<EndPoint?> endpoint, ConfigurationOptions options, long maxReplyBytes, string name, string? clientName, string? queue,
        bool followEachCall = false, DirectTls? tls = null)
    {
        _tls = tls;
        _followEachCall = followEachCall;
        _queue = queue ?? "";
        _clientName = clientName;
        _endpoint = endpoint;
        _options = options;
        _maxReplyBytes = maxReplyBytes;
        _threadName = name;
    }

    /// <summary>
    /// Whether the caller runs on this connection's thread: a slot whose claim continued here, which may then start its
    /// handler here too (the thread is the slot's alone, as its handler thread is).
    /// </summary>
    internal bool IsCurrentThread => Thread.CurrentThread == _thread;

    /// <summary>
    /// Runs a script. On this connection's own thread (a slot that continued here after its last call), or on a thread
    /// that runs its handlers itself (<see cref="Worker.InlineClaims"/>), the call is made at once and the task returned
    /// is complete; from another thread it is handed to this one, and the caller's continuation then runs here. Null
    /// while the connection rests after a failure: use the multiplexer.
    /// </summary>
    /// <remarks>
    /// The task fails with <see cref="DirectConnectionLostException"/> when the connection fails during the call. A slot
    /// makes one call at a time and this thread touches the socket only inside a call, so a call made inline and one made
    /// here never overlap.
    /// </remarks>
    public Task<RedisResult>? EvaluateAsync(string script, RedisKey[] keys, RedisValue[] arguments)
    {
        if (_rest.Active) return null;
        if (IsCurrentThread || Worker.InlineClaims.Here)
        {
            try
            {
                return Task.FromResult(Evaluate(script, keys, arguments));
            }
            catch (DirectConnectionLostException e)
            {
                return Task.FromException<RedisResult>(e);
            }
        }
        return HandOver(new Call(script, keys, arguments));
    }

    /// <summary>
    /// BLPOP on <paramref name="keys"/> for at most <paramref name="timeoutSeconds"/> (as the server takes it; it blocks up
    /// to <paramref name="wait"/>): an idle slot's wait for a token, whose reply wakes this thread alone, which then makes the
    /// claim that follows inline and starts the task's handler (the multiplexer's wait hands its reply through three or four
    /// threads first). Null while the connection rests after a failure. Fails with
    /// <see cref="DirectConnectionLostException"/> when the connection fails: a token popped as it failed is lost with its
    /// reply, as on the multiplexer's connection, and a sweep brings the token count back to the task count.
    /// </summary>
    public Task<RedisResult>? BlockingPopAsync(RedisKey[] keys, RedisValue timeoutSeconds, TimeSpan wait)
    {
        if (_rest.Active) return null;
        if (IsCurrentThread)
        {
            try
            {
                return Task.FromResult(BlockingPop(keys, timeoutSeconds, wait));
            }
            catch (DirectConnectionLostException e)
            {
                return Task.FromException<RedisResult>(e);
            }
        }
        return HandOver(new Call(null, keys, new[] { timeoutSeconds }, wait));
    }

    /// <summary>
    /// BRPOPLPUSH from <paramref name="source"/> to <paramref name="destination"/> for at most
    /// <paramref name="timeoutSeconds"/>, with a script call written right behind it in the same write: Redis runs the
    /// call the moment the wait ends (an element moved, or the timeout) and sends both replies together, so an idle
    /// slot's claim costs no round trip of its own after the wake (the call finds in <paramref name="destination"/> what
    /// the wait moved there, if anything). Null while the connection rests after a failure.
    /// </summary>
    /// <remarks>
    /// Fails with <see cref="DirectConnectionLostException"/> when either reply does not come or is an error: the call may
    /// have run, and the wait may have moved an element that no call took. A wait the server refuses for good (an account
    /// without BRPOPLPUSH or the destination key, a server that does not know the command) fails with
    /// <see cref="DirectConnectionLostException.Refused"/> set, the connection kept: the caller waits another way.
    /// </remarks>
    public Task<RedisResult>? BlockingMoveThenEvaluateAsync(RedisKey source, RedisKey destination, RedisValue timeoutSeconds, TimeSpan wait, string script,
        RedisKey[] keys, RedisValue[] arguments)
    {
        if (_rest.Active) return null;
        var call = new Call(script, keys, arguments, wait, new[] { source, destination }, timeoutSeconds);
        if (IsCurrentThread)
        {
            try
            {
                return Task.FromResult(BlockingMoveThenEvaluate(call));
            }
            catch (DirectConnectionLostException e)
            {
                return Task.FromException<RedisResult>(e);
            }
        }
        return HandOver(call);
    }

    private Task<RedisResult> HandOver(Call call)
    {
        // Not RunContinuationsAsynchronously: the awaiting slot is meant to continue on this thread.
        try
        {
            // Started with the first call handed over (a slot makes one call at a time; an enqueuer never hands one).
            if (_thread is null)
            {
                // A background thread: a process must not stay alive for it.
                _thread = new Thread(Run) { IsBackground = true, Name = _threadName };
                _thread.Start();
            }
            _calls.Add(call);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            return Task.FromException<RedisResult>(new DirectConnectionLostException("The direct connection is closed.", e));
        }
        return call.Reply.Task;
    }

    public void Dispose()
    {
        _calls.CompleteAdding();
        // Without a thread (an enqueuer's connection), the socket is closed here, once no caller is using it.
        if (_thread is null)
        {
            lock (_gate) Close();
        }
    }

    /// <summary>
    /// Appends tasks and one token each, in one MULTI/EXEC written and read on the calling thread: the commands of the
    /// multiplexer's enqueue, without handing the reply between threads (on busy cores each hand-off waits for a core).
    /// False when the call is not made here, so nothing was applied and the caller uses the multiplexer: the connection
    /// rests after a failure, another caller is using it, it cannot be opened, or the server answered a redirection.
    /// </summary>
    /// <exception cref="RedisConnectionException">The connection failed once the transaction was being sent: it may or may
    /// not have been applied, as when the multiplexer's connection fails at that point.</exception>
    /// <exception cref="RedisServerException">The server refused the transaction before running it (EXECABORT: nothing was
    /// applied), with its reason (OOM, READONLY, NOPERM, BUSY...); or a command of it failed as it ran (e.g. WRONGTYPE), as
    /// the multiplexer reports it.</exception>
    internal bool TryEnqueue(byte[] tasksKey, byte[] tokensKey, IReadOnlyList<byte[]> tasks)
    {
        if (_rest.Active || !Monitor.TryEnter(_gate)) return false;
        // The tasks key is the queue's name: the failure is counted under it.
        void FallBack() => _rest.Begin(Encoding.UTF8.GetString(tasksKey), "enqueue");
        try
        {
            if (_calls.IsAddingCompleted) return false;
            BufferedStream stream;
            try
            {
                FollowTheMultiplexer();
                stream = StillOpen() ?? Open();
            }
#pragma warning disable CA1031 // Nothing was sent: the multiplexer takes the call, and reports what it finds.
            catch (Exception)
#pragma warning restore CA1031
            {
                FallBack();
                return false;
            }
            try
            {
                EnqueueTransaction.Write(stream, tasksKey, tokensKey, tasks);
                stream.Flush();
                if (EnqueueTransaction.ReadReply(stream)) return true;
                // A redirection (not on one server, where this connection serves; defensive) goes to the multiplexer.
                FallBack();
                return false;
            }
            catch (Exception e) when (e is not RedisServerException)
            {
                Close();
                FallBack();
                throw EnqueueTransaction.Doubtful(e, e.Message);
            }
        }
        finally
        {
            Monitor.Exit(_gate);
        }
    }

    /// <summary>
    /// The open stream, unless the server closed it meanwhile (an idle client's timeout, a restart): a socket that reads
    /// as ready with nothing to read has been closed by its peer, and is opened again before anything is sent on it.
    /// </summary>
    private BufferedStream? StillOpen()
    {
        if (_socket is null || _stream is null) return null;
        if (DirectSocket.ClosedByPeer(_socket))
        {
            Close();
            return null;
        }
        return _stream;
    }

    private void Run()
    {
        foreach (var call in _calls.GetConsumingEnumerable())
        {
            RedisResult result;
            try
            {
                result = call.WaitKeys is not null ? BlockingMoveThenEvaluate(call)
                    : call.Script is null ? BlockingPop(call.Keys, call.Arguments[0], call.Wait) : Evaluate(call.Script, call.Keys, call.Arguments);
            }
            catch (DirectConnectionLostException e)
            {
                call.Reply.TrySetException(e);
                continue;
            }
            call.Reply.TrySetResult(result);
        }
        Close();
        _calls.Dispose();
    }

    private RedisResult Evaluate(string script, RedisKey[] keys, RedisValue[] arguments)
    {
        try
        {
            FollowTheMultiplexer();
            var stream = _stream ?? Open();
            WriteEvaluate(stream, PrefixOf(script, keys), arguments);
            stream.Flush();
            return Answer(ReadEvaluated(stream, script, keys, arguments));
        }
#pragma warning disable CA1031 // Whatever fails here (the client's endpoint lookup during its reconfiguration too) only sends the call to the multiplexer: an exception escaping this thread would end the process.
        catch (Exception e)
#pragma warning restore CA1031
        {
            throw Lost(e);
        }
    }

    /// <summary>The reply of an EVALSHA sent; when the server lost its script cache (a restart, SCRIPT FLUSH), EVAL's, which caches it again.</summary>
    private object? ReadEvaluated(Stream stream, string script, RedisKey[] keys, RedisValue[] arguments)
    {
        var reply = Read(stream, 0);
        if (reply is not RespError { Text: var text } || !text.StartsWith("NOSCRIPT", StringComparison.Ordinal)) return reply;
        WriteEvaluate(stream, Prefix("EVAL", Encoding.UTF8.GetBytes(script), keys, arguments.Length), arguments);
        stream.Flush();
        return Read(stream, 0);
    }

    /// <summary>A call's reply as the multiplexer would give it; an error reply sends the call to the multiplexer.</summary>
    private static RedisResult Answer(object? reply) =>
        reply is RespError error ? throw new DirectConnectionLostException("Redis answered an error: " + error.Text, null) : (RedisResult)reply!;

    /// <summary>After a failure during a call: the connection closed and resting (counted), and the exception for the caller.</summary>
    private DirectConnectionLostException Lost(Exception e)
    {
        Close();
        _rest.Begin(_queue, "claims");
        return e as DirectConnectionLostException ?? new DirectConnectionLostException("The direct connection to Redis failed: " + e.Message, e);
    }

    private static readonly byte[] BlockingLeftPop = Encoding.ASCII.GetBytes("BLPOP");

    private RedisResult BlockingPop(RedisKey[] keys, RedisValue timeoutSeconds, TimeSpan wait)
    {
        try
        {
            FollowTheMultiplexer();
            var stream = StillOpen() ?? Open(); // after an idle spell the server may have closed it (its client timeout)
            WriteBlockingPop(stream, keys, timeoutSeconds);
            stream.Flush();
            return Answer(ReadWaiting(stream, wait));
        }
#pragma warning disable CA1031 // As in Evaluate: the wait goes to the multiplexer.
        catch (Exception e)
#pragma warning restore CA1031
        {
            throw Lost(e);
        }
    }

    private static readonly byte[] BlockingMove = Encoding.ASCII.GetBytes("BRPOPLPUSH");

    /// <summary>The call's reply (<see cref="BlockingMoveThenEvaluateAsync"/>).</summary>
    private RedisResult BlockingMoveThenEvaluate(Call call)
    {
        try
        {
            FollowTheMultiplexer();
            var stream = StillOpen() ?? Open();
            WriteHeader(stream, '*', 4);
            WriteBulk(stream, BlockingMove);
            WriteBulk(stream, (byte[])call.WaitKeys![0]!);
            WriteBulk(stream, (byte[])call.WaitKeys[1]!);
            WriteBulk(stream, (byte[])call.WaitSeconds!);
            WriteEvaluate(stream, PrefixOf(call.Script!, call.Keys), call.Arguments);
            stream.Flush();
            if (ReadWaiting(stream, call.Wait) is RespError { Text: var error })
            {
                // Nothing moved, but the call behind it ran (and may have claimed with a token left in the destination by
                // another wait): the caller treats its reply as lost. Both read, the connection stays in step.
                Read(stream, 0);
                // What no retry changes (an account without the command or key, a server without the command) is a
                // refusal; anything else (READONLY after a failover, LOADING...) a failure like any other.
                if (error.StartsWith("NOPERM", StringComparison.Ordinal) || error.StartsWith("ERR unknown command", StringComparison.Ordinal))
                    throw DirectConnectionLostException.Refusal(error);
                throw new DirectConnectionLostException("Redis answered an error: " + error, null);
            }
            return Answer(ReadEvaluated(stream, call.Script!, call.Keys, call.Arguments));
        }
        catch (DirectConnectionLostException e) when (e.Refused)
        {
            throw;
        }
#pragma warning disable CA1031 // As in Evaluate: the caller goes on as after a lost reply, knowing the call may have run.
        catch (Exception e)
#pragma warning restore CA1031
        {
            throw Lost(e);
        }
    }

    private static void WriteBlockingPop(Stream stream, RedisKey[] keys, RedisValue timeoutSeconds)
    {
        WriteHeader(stream, '*', 2 + keys.Length);
        WriteBulk(stream, BlockingLeftPop);
        foreach (var key in keys) WriteBulk(stream, (byte[])key!);
        WriteBulk(stream, (byte[])timeoutSeconds!);
    }

    /// <summary>A blocking command's reply, which may take <paramref name="wait"/> longer than any other.</summary>
    private object? ReadWaiting(Stream stream, TimeSpan wait)
    {
        var polled = _polled!;
        var timeout = polled.TimeoutMilliseconds;
        polled.TimeoutMilliseconds = checked(timeout + (int)Math.Ceiling(wait.TotalMilliseconds));
        try
        {
            return Read(stream, 0);
        }
        finally
        {
            polled.TimeoutMilliseconds = timeout;
        }
    }

    /// <summary>
    /// Once a second, whether the multiplexer still names the server this connection is on: after a failover (Sentinel)
    /// it follows the new primary, and so does this connection, within a second, rather than writing on to an old
    /// primary that still takes writes (whose claims its demotion would undo).
    /// </summary>
    private void FollowTheMultiplexer()
    {
        if (_stream is null || (!_followEachCall && Stopwatch.GetTimestamp() - _checkedAt < Stopwatch.Frequency)) return;
        _checkedAt = Stopwatch.GetTimestamp();
        if (!Equals(_endpoint(), _connectedTo)) Close();
    }

    private BufferedStream Open()
    {
        var endpoint = _endpoint() ?? throw new DirectConnectionLostException("The multiplexer knows no server for the queue now.", null);
        (_socket, _polled, _stream, _) = DirectSocket.Open(endpoint, _options, _clientName, _tls);
        _connectedTo = endpoint;
        _checkedAt = Stopwatch.GetTimestamp();
        return _stream;
    }

    private void Close()
    {
        _stream?.Dispose();
        _socket?.Dispose();
        _stream = null;
        _socket = null;
        _polled = null;
    }

    private static byte[] Sha1Hex(string script)
    {
#pragma warning disable CA5350 // SHA-1 is what Redis names scripts by, not a security measure.
        using var sha1 = SHA1.Create();
        var hash = sha1.ComputeHash(Encoding.UTF8.GetBytes(script));
#pragma warning restore CA5350
        var hex = new StringBuilder(40);
        foreach (var b in hash) hex.Append(b.ToString("x2", CultureInfo.InvariantCulture));
        return Encoding.ASCII.GetBytes(hex.ToString());
    }

    /// <summary>
    /// The bytes of an EVALSHA up to its arguments (the command, digest and keys are the same call after call), kept for
    /// the last script and key array used: a slot calls one script with its queue's one array of keys.
    /// </summary>
    private byte[] PrefixOf(string script, RedisKey[] keys)
    {
        if (ReferenceEquals(script, _prefixScript) && ReferenceEquals(keys, _prefixKeys) && _prefix is { } known) return known;
        var prefix = Prefix("EVALSHA", Sha1Hex(script), keys, -1);
        (_prefixScript, _prefixKeys, _prefix) = (script, keys, prefix);
        return prefix;
    }

    /// <summary>The command, script or digest, and keys of a call, without the array header (written with the arguments' count).</summary>
    private static byte[] Prefix(string command, byte[] script, RedisKey[] keys, int argumentCount)
    {
        using var bytes = new MemoryStream();
        if (argumentCount >= 0) WriteHeader(bytes, '*', 3 + keys.Length + argumentCount);
        WriteBulk(bytes, Encoding.ASCII.GetBytes(command));
        WriteBulk(bytes, script);
        WriteBulk(bytes, Encoding.ASCII.GetBytes(keys.Length.ToString(CultureInfo.InvariantCulture)));
        foreach (var key in keys) WriteBulk(bytes, (byte[])key!);
        return bytes.ToArray();
    }

    private void WriteEvaluate(Stream stream, byte[] prefix, RedisValue[] arguments)
    {
        // The EVAL form carries its header; the cached EVALSHA prefix gets it here (its key count is fixed, its
        // argument count is not).
        if (prefix[0] != (byte)'*') WriteHeader(stream, '*', 3 + _prefixKeys!.Length + arguments.Length);
        stream.Write(prefix, 0, prefix.Length);
        foreach (var argument in arguments) WriteBulk(stream, (byte[])argument!);
    }

    /// <summary>One reply (<see cref="RespWire.Read"/>), bulk replies bounded by this connection's limit.</summary>
    private object? Read(Stream stream, int depth) => RespWire.Read(stream, depth, _maxReplyBytes);

    private sealed class Call
    {
        public Call(string? script, RedisKey[] keys, RedisValue[] arguments, TimeSpan wait = default)
        {
            Script = script;
            Keys = keys;
            Arguments = arguments;
            Wait = wait;
        }

        /// <summary>A wait on <paramref name="waitKeys"/> (source, destination) with the script call behind it (<see cref="BlockingMoveThenEvaluate"/>).</summary>
        public Call(string script, RedisKey[] keys, RedisValue[] arguments, TimeSpan wait, RedisKey[] waitKeys, RedisValue waitSeconds)
            : this(script, keys, arguments, wait)
        {
            WaitKeys = waitKeys;
            WaitSeconds = waitSeconds;
        }

        /// <summary>The keys of a wait written before the script (its source and destination); null for a script alone.</summary>
        public RedisKey[]? WaitKeys { get; }

        public RedisValue WaitSeconds { get; }

        /// <summary>The script to run; null for a blocking wait (<see cref="BlockingPop"/>).</summary>
        public string? Script { get; }

        /// <summary>How long a blocking wait may block on the server.</summary>
        public TimeSpan Wait { get; }

        public RedisKey[] Keys { get; }

        public RedisValue[] Arguments { get; }

        public TaskCompletionSource<RedisResult> Reply { get; } = new();
    }
}
