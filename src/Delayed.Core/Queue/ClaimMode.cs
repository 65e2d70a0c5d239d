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
}
