using System.Management.Automation;
using System.Security;

namespace Delayed.PowerShell.Parameters;

/// <summary>
/// Lets a password parameter take a SecureString or a PSCredential (its password). Plain text is refused: it would
/// sit in the history and in $job.Command.
/// </summary>
internal sealed class SecretTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData) =>
        (inputData is PSObject wrapped ? wrapped.BaseObject : inputData) switch
        {
            null => null,
            SecureString secure => secure,
            PSCredential credential => credential.Password,
            _ => throw new ArgumentTransformationMetadataException(
                "Give the password as a SecureString (Read-Host -AsSecureString) or a PSCredential (Get-Credential), not as plain text."),
        };
}
