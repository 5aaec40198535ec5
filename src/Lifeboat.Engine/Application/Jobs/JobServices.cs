using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Lifeboat.Engine.Application.Jobs;

/// <summary>The job queue's registrations: one <see cref="JobQueue"/> per process, started and stopped by the host.</summary>
public static class JobServices
{
    /// <summary>
    /// Registers the <see cref="JobQueue"/> singleton and its options (once; <see cref="EngineServices.AddLifeboatEngine"/>
    /// calls it with the defaults). The queue runs nothing until the host calls <see cref="JobQueue.StartAsync"/>.
    /// </summary>
    public static IServiceCollection AddLifeboatJobs(this IServiceCollection services, Action<JobQueueOptions>? configure = null)
    {
        if (configure is not null)
        {
            var options = new JobQueueOptions();
            configure(options);
            services.RemoveAll<JobQueueOptions>();
            services.AddSingleton(options);
        }
        else
        {
            services.TryAddSingleton(new JobQueueOptions());
        }

        services.TryAddSingleton<JobQueue>();
        return services;
    }
}
