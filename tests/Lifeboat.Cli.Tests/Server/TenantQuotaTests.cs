using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using TenantWorld = Lifeboat.Cli.Tests.Server.TenantIsolationTests.TenantWorld;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>
/// The quotas the server enforces (docs/tenants.md, "Quotas"): an upload against the stored-bytes quota, before it is
/// read when its length is known and while it streams when it is not; the concurrent-jobs quota in the job queue,
/// where several submissions at once cannot all take the last slot.
/// </summary>
public sealed class TenantQuotaTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_upload_over_the_stored_bytes_quota_is_refused_with_or_without_its_length_and_leaves_no_backup()
    {
        await using var world = await TenantWorld.StartAsync(withData: false);
        var bravo = world.Bravo;
        using var super = world.Superadmin();
        using var b = world.Client(bravo.AdminToken);
        await TenantWorld.OkAsync(super, HttpMethod.Patch, "/api/v1/tenants/bravo", new { name = "bravo", quotaStored = "64KiB" });

        // A tar of 256 KiB that does not compress: four times the quota.
        var tree = world.Dir.Dir("upload-tree");
        var random = new byte[256 * 1024];
        new Random(7).NextBytes(random);
        File.WriteAllBytes(Path.Combine(tree, "noise.bin"), random);
        var tar = world.Dir.Combine("upload.tar");
        await System.Formats.Tar.TarFile.CreateFromDirectoryAsync(tree, tar, includeBaseDirectory: false, Ct);
        var url = $"/api/v1/backups/uploads?source={bravo.Source}";

        // With Content-Length: refused before it is read.
        using (var refused = await PostAsync(b, url, File.OpenRead(tar), withLength: true))
        {
            await AssertRefusedAsync(refused, "upload to 'bravo-files' refused: tenant 'bravo' stores");
        }

        // Chunked, no length: refused once what was read passes the quota.
        using (var refused = await PostAsync(b, url, new NoLengthStream(File.OpenRead(tar)), withLength: false))
        {
            await AssertRefusedAsync(refused, "tenant 'bravo' stores");
        }

        var backups = await TenantWorld.OkAsync(b, HttpMethod.Get, "/api/v1/backups", null);
        Assert.Equal(0, backups.GetProperty("items").GetArrayLength());
        var events = await TenantWorld.OkAsync(b, HttpMethod.Get, "/api/v1/events?type=tenant.quota.exceeded", null);
        var exceeded = events.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("data")).ToList();
        Assert.Equal(2, exceeded.Count);
        Assert.All(exceeded, d => Assert.Equal("stored-bytes", d.GetProperty("quota").GetString()));

        // The refusal was the quota's: raised, the same upload (chunked) goes through and restores as the tree.
        await TenantWorld.OkAsync(super, HttpMethod.Patch, "/api/v1/tenants/bravo", new { name = "bravo", quotaStored = "10MiB" });
        using (var accepted = await PostAsync(b, url, new NoLengthStream(File.OpenRead(tar)), withLength: false))
        {
            var text = await accepted.Content.ReadAsStringAsync(Ct);
            Assert.True(accepted.IsSuccessStatusCode, text);
        }

        backups = await TenantWorld.OkAsync(b, HttpMethod.Get, "/api/v1/backups", null);
        Assert.Equal(1, backups.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task The_concurrent_jobs_quota_admits_only_what_is_free_when_submissions_race_and_a_cancelled_job_frees_its_slot()
    {
        await using var world = await TenantWorld.StartAsync(withData: false);
        var bravo = world.Bravo;
        using var super = world.Superadmin();
        using var b = world.Client(bravo.AdminToken);

        // Expire jobs that wait for an approval nobody gives: they stay unfinished for the whole test.
        File.WriteAllText(Path.Combine(bravo.SourcePath, "one.txt"), "1");
        await world.BackupAsync(b, bravo.Source);
        File.WriteAllText(Path.Combine(bravo.SourcePath, "two.txt"), "2");
        await world.BackupAsync(b, bravo.Source);
        await TenantWorld.OkAsync(b, HttpMethod.Put, $"/api/v1/retention/{bravo.Source}", new { keepLast = 1 });
        await TenantWorld.OkAsync(b, HttpMethod.Put, "/api/v1/approvals/policies", new { operation = "backup.expire", approvals = 1, role = "admin" });
        await TenantWorld.OkAsync(super, HttpMethod.Patch, "/api/v1/tenants/bravo", new { name = "bravo", quotaJobs = 2 });

        var first = await SubmitExpireAsync(b, bravo.Source);
        Assert.Equal(HttpStatusCode.Accepted, first.Status);
        await Poll.UntilAsync(async () => (await JobAsync(b, first.Id!)).GetProperty("state").GetString() == "awaiting-approval", "the first expire job awaits its approval", Ct);

        // Five at once for the one free slot: exactly one is admitted.
        var raced = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => SubmitExpireAsync(b, bravo.Source)));
        Assert.Single(raced, r => r.Status == HttpStatusCode.Accepted);
        var refused = raced.Where(r => r.Status != HttpStatusCode.Accepted).ToList();
        Assert.Equal(4, refused.Count);
        foreach (var r in refused)
        {
            Assert.Equal(HttpStatusCode.UnprocessableEntity, r.Status);
            Assert.Equal("QuotaExceeded", r.Problem.GetProperty("code").GetString());
            Assert.Contains("tenant 'bravo' has 2 job(s) queued, running or awaiting approval, and its quota is 2", r.Problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var jobs = (await TenantWorld.OkAsync(b, HttpMethod.Get, "/api/v1/jobs", null)).GetProperty("items").EnumerateArray()
            .Count(j => j.GetProperty("kind").GetString() == "expire");
        Assert.Equal(2, jobs);
        var events = await TenantWorld.OkAsync(b, HttpMethod.Get, "/api/v1/events?type=tenant.quota.exceeded", null);
        Assert.Equal(4, events.GetProperty("items").EnumerateArray().Count(e => e.GetProperty("data").GetProperty("quota").GetString() == "jobs"));

        // Another tenant is not held by bravo's quota; a cancelled job frees bravo's slot.
        using var a = world.Client(world.Alpha.AdminToken);
        await world.BackupAsync(a, world.Alpha.Source);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await SubmitExpireAsync(b, bravo.Source)).Status);
        using (var cancelled = await b.DeleteAsync(new Uri($"/api/v1/jobs/{first.Id}", UriKind.Relative), Ct))
        {
            Assert.True(cancelled.IsSuccessStatusCode, await cancelled.Content.ReadAsStringAsync(Ct));
        }

        await Poll.UntilAsync(async () => (await JobAsync(b, first.Id!)).GetProperty("state").GetString() == "cancelled", "the first job is cancelled", Ct);
        Assert.Equal(HttpStatusCode.Accepted, (await SubmitExpireAsync(b, bravo.Source)).Status);
    }

    private static async Task<(HttpStatusCode Status, string? Id, JsonElement Problem)> SubmitExpireAsync(HttpClient client, string source)
    {
        using var response = await client.PostAsJsonAsync(new Uri("/api/v1/expire", UriKind.Relative), new { source }, Ct);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();
        return (response.StatusCode, response.StatusCode == HttpStatusCode.Accepted ? body.GetProperty("id").GetString() : null, body);
    }

    private static async Task<JsonElement> JobAsync(HttpClient client, string id)
        => await TenantWorld.OkAsync(client, HttpMethod.Get, $"/api/v1/jobs/{id}", null);

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string url, Stream body, bool withLength)
    {
        var content = new StreamContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (withLength)
        {
            content.Headers.ContentLength = body.Length;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, UriKind.Relative)) { Content = content };
        request.Headers.ExpectContinue = true;
        if (!withLength)
        {
            request.Headers.TransferEncodingChunked = true;
        }

        return await client.SendAsync(request, Ct);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string detail)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, text);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal("QuotaExceeded", problem.GetProperty("code").GetString());
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("nothing was written", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    /// <summary>A stream that does not tell its length, so the client sends it chunked.</summary>
    private sealed class NoLengthStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
