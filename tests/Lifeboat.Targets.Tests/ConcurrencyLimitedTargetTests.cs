namespace Lifeboat.Targets.Tests;

public sealed class ConcurrencyLimitedTargetTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Never_more_than_the_limit_of_operations_run_at_once()
    {
        var inner = new GatedTarget();
        var limited = new ConcurrencyLimitedTarget(inner, 3);

        var operations = Enumerable.Range(0, 12).Select(i => limited.StatAsync($"data/ab/{i:x4}", Ct)).ToList();
        for (var i = 0; i < 3; i++)
        {
            await inner.NextEnteredAsync(Ct);
        }

        Assert.Equal(3, inner.InFlight);
        Assert.Equal(3, inner.EnteredCount);
        // Each finished operation lets exactly one waiting operation in.
        for (var i = 3; i < 12; i++)
        {
            inner.Open();
            await inner.NextEnteredAsync(Ct);
        }

        inner.Open(3);
        await Task.WhenAll(operations);

        Assert.Equal(3, inner.MaxInFlight);
        Assert.Equal(12, inner.EnteredCount);
        Assert.Equal(0, inner.InFlight);
    }

    [Fact]
    public async Task Every_kind_of_operation_counts_against_the_same_limit()
    {
        var inner = new GatedTarget();
        var limited = new ConcurrencyLimitedTarget(inner, 2);

        var operations = new List<Task>
        {
            limited.SaveAsync("data/ab/ab01", ObjectSource.FromBytes(new byte[] { 1 }), SaveMode.Create, Ct),
            limited.SaveFileAsync("data/ab/ab02", "/nonexistent/staged", SaveMode.Create, Ct),
            limited.ReadAllAsync("config", Ct),
            limited.StatAsync("config", Ct),
            limited.ListAllAsync("data/", Ct),
            limited.DeleteAsync("locks/l1", Ct),
        };
        await inner.NextEnteredAsync(Ct);
        await inner.NextEnteredAsync(Ct);
        Assert.Equal(2, inner.InFlight);
        for (var i = 2; i < operations.Count; i++)
        {
            inner.Open();
            await inner.NextEnteredAsync(Ct);
        }

        inner.Open(2);
        await Task.WhenAll(operations);

        Assert.Equal(2, inner.MaxInFlight);
        Assert.Equal(6, inner.EnteredCount);
    }

    [Fact]
    public async Task An_operation_cancelled_while_waiting_for_a_slot_never_reaches_the_target()
    {
        var inner = new GatedTarget();
        var limited = new ConcurrencyLimitedTarget(inner, 1);
        var first = limited.StatAsync("config", Ct);
        await inner.NextEnteredAsync(Ct);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var waiting = limited.StatAsync("keys/k1", cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        inner.Open();
        await first;
        // The slot is free again, and the cancelled operation did not take it.
        var third = limited.StatAsync("locks/l1", Ct);
        await inner.NextEnteredAsync(Ct);
        inner.Open();
        await third;
        Assert.Equal(2, inner.EnteredCount);
        Assert.Equal(1, inner.MaxInFlight);
    }

    [Fact]
    public async Task A_failed_operation_gives_its_slot_back()
    {
        var inner = new GatedTarget { FailNext = new TargetException(TargetErrorKind.Other, "gated://test/config: broken", isTransient: false) };
        var limited = new ConcurrencyLimitedTarget(inner, 1);
        inner.Open(2);

        var error = await Assert.ThrowsAsync<TargetException>(() => limited.StatAsync("config", Ct));
        var info = await limited.StatAsync("config", Ct);

        Assert.Equal("gated://test/config: broken", error.Message);
        Assert.Equal(new ObjectInfo("config", 1), info);
    }

    [Fact]
    public async Task A_listing_holds_its_slot_until_it_is_abandoned_and_then_gives_it_back()
    {
        var inner = new GatedTarget();
        var limited = new ConcurrencyLimitedTarget(inner, 1);
        inner.Open(2);
        Task<ObjectInfo?>? stat = null;

        await foreach (var item in limited.ListAsync("data/", Ct))
        {
            stat = limited.StatAsync("config", Ct);
            // A free slot is taken at once: the stat would already be inside the target if the listing had let go.
            Assert.Equal(1, inner.EnteredCount);
            break;
        }

        Assert.Equal(new ObjectInfo("config", 1), await stat!);
        Assert.Equal(2, inner.EnteredCount);
        Assert.Equal(1, inner.MaxInFlight);
    }

    [Fact]
    public void A_limit_below_one_is_refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ConcurrencyLimitedTarget(new GatedTarget(), 0));

        Assert.Equal("limit", error.ParamName);
    }

    [Fact]
    public void The_limited_target_shows_the_inner_target_name_and_capabilities()
    {
        var inner = new GatedTarget();
        var limited = new ConcurrencyLimitedTarget(inner, 2);

        Assert.Equal("gated://test", limited.DisplayName);
        Assert.Same(inner.Capabilities, limited.Capabilities);
        Assert.Same(inner, limited.Inner);
    }
}
