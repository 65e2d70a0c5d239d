using StackExchange.Redis;

namespace Delayed.Core.Redis;

/// <summary>
/// The replies to a blocking wait and the call written right behind it on one connection
/// (<see cref="DirectConnection.BlockingMoveThenEvaluateAsync"/>): the server runs the call as soon as the wait ends, so its
/// reply comes with the wait's, one round trip for both.
/// </summary>
internal sealed class WaitedReplies
{
    public WaitedReplies(RedisResult moved, RedisResult? call)
    {
        Moved = moved;
        Call = call;
    }

    /// <summary>BRPOPLPUSH's reply: the element moved, or null when the wait timed out.</summary>
    public RedisResult Moved { get; }

    /// <summary>
    /// The call's reply; null when it did not come (the connection failed after the wait's reply, or Redis refused the
    /// call): the call may or may not have run.
    /// </summary>
    public RedisResult? Call { get; }
}
