namespace Delayed.Core.Queue;

/// <summary>How the claim script (<see cref="Protocol.LuaScripts.FinishAndClaim"/>) takes its next task.</summary>
internal enum ClaimMode
{
    /// <summary>Only finish the held task.</summary>
    None,

    /// <summary>Claim a task only if a token can be taken right now.</summary>
    TakeToken,

    /// <summary>The caller already took a token with BLPOP.</summary>
    TokenTaken,

    /// <summary>
    /// Written right behind the caller's BLPOP on one connection, so run when the wait ends, whether it took a token or
    /// timed out: the claim takes no token and puts none back, and the caller, which knows what the wait took, returns a
    /// token it took for no task (<see cref="DelayedQueue.WaitThenClaimAsync"/>).
    /// </summary>
    Waited,
}
