using System.Text.Json;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.Tests;

/// <summary>Request records as the API binds them (through LifeboatJson): omitted fields keep their defaults.</summary>
public sealed class RequestJsonTests
{
    [Fact]
    public void A_restore_request_with_only_some_fields_keeps_the_defaults_of_the_others()
    {
        var request = JsonSerializer.Deserialize("""{"source":"app","to":"/tmp/x"}""", LifeboatJson.Default.RestoreSourceRequest)!;
        Assert.Equal("app", request.Source);
        Assert.Equal("/tmp/x", request.To);
        Assert.Null(request.ArchiveMode); // off for a copy, preserve in the source's own PGDATA
        Assert.Null(request.ArchiveOff);
        Assert.Equal("promote", request.TargetAction);
        Assert.Empty(request.Path);
        request.Validate();
    }
}
