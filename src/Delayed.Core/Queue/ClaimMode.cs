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
    /// Written right behind the caller's BRPOPLPUSH of a token to the waking list on one connection, so run when that wait
    /// ends: claims (as <see cref="TokenTaken"/>) only with a token the wait moved there, nothing after a timeout
    /// (<see cref="DelayedQueue.WaitThenClaimAsync"/>).
    /// </summary>
    Waited,
}
