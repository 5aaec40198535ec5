using System.Security.Cryptography;

namespace Lifeboat.Engine.Scheduling;

/// <summary>How a scheduler node identifies itself and keeps its claims on scheduled runs alive.</summary>
public sealed class SchedulerOptions
{
    /// <summary>This node's name in the catalog's claims: host, process id and a random suffix (unique per process).</summary>
    public string Node { get; init; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    /// <summary>How often a running run renews its claim (and how often the scheduler looks for abandoned runs).</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A claim not renewed for this long belongs to a dead node: another node takes the run over.</summary>
    public TimeSpan LeaseTimeout { get; init; } = TimeSpan.FromMinutes(2);
}
