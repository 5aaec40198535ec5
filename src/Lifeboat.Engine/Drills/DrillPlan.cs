using System.Security.Cryptography;
using Lifeboat.Core;

namespace Lifeboat.Engine.Drills;

/// <summary>A drill whose checks failed (not retried by schedules: the failure is the finding).</summary>
public sealed class DrillFailedException(string message) : LifeboatException(ErrorCode.Failed, message, "open the drill's HTML report for every check and its evidence");

/// <summary>What the drill was asked to restore.</summary>
public sealed record DrillPlan(string? BackupId, DateTimeOffset? TargetTime, bool RandomPoint, TimeSpan Timeout)
{
    /// <summary>A random fraction in (0, 1].</summary>
    public static double RandomFraction() => RandomNumberGenerator.GetInt32(1, 1_000_001) / 1_000_000.0;
}
