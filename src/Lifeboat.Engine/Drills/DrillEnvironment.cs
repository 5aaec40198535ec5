using Lifeboat.Engine.Application;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.Drills;

/// <summary>What a drill of any kind works with: the call's workspace, its repository, the clock and the loggers.</summary>
public sealed record DrillEnvironment(Workspace Workspace, RepositoryOpener Repositories, TimeProvider Time, ILoggerFactory Loggers);
