using Lifeboat.Core;
using Lifeboat.Repository.Crypto;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Maintenance;
using Lifeboat.Targets.Local;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Repository.Tests;

/// <summary>A damaged key slot is skipped and reported; it never locks out the keys of the other slots (issue 19, item 3).</summary>
public sealed class KeySlotDamageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static KeyMaterial Passphrase => KeyMaterial.FromPassphrase(new Secret("second passphrase"), "test");

    private static void Truncate(string path) => File.WriteAllBytes(path, File.ReadAllBytes(path)[..20]);

    /// <summary>A repository with two slots: the key file of <see cref="TestRepository"/> (returned) and a passphrase.</summary>
    private static async Task<(string KeyFileSlot, string PassphraseSlot)> TwoSlotsAsync(TestRepository t)
    {
        await using var repo = await t.InitAsync();
        var second = await repo.AddKeyAsync(Passphrase, "second", Ct);
        return (repo.OpenedSlotId!, second.Id);
    }

    [Fact]
    public async Task A_truncated_slot_is_skipped_the_other_slot_opens_and_verify_and_the_key_list_report_it()
    {
        using var t = new TestRepository();
        var (keyFileSlot, passphraseSlot) = await TwoSlotsAsync(t);
        Truncate(t.PathOf(ObjectNames.Key(keyFileSlot)));

        await using var repo = await Repo.OpenAsync(new LocalTarget(t.Root), () => Passphrase, TimeProvider.System, null, Ct);
        Assert.Equal(passphraseSlot, repo.OpenedSlotId);
        var damaged = Assert.Single(repo.DamagedKeySlots);
        Assert.Equal(keyFileSlot, damaged.SlotId);
        Assert.Equal(ObjectNames.Key(keyFileSlot), damaged.Object);

        var (slots, listedDamage) = await repo.ListKeysWithDamageAsync(Ct);
        Assert.Equal(passphraseSlot, Assert.Single(slots).Id);
        Assert.Equal(keyFileSlot, Assert.Single(listedDamage).SlotId);

        var report = await new Verifier(repo).VerifyAsync(new VerifyOptions(), null, Ct);
        Assert.False(report.IsHealthy);
        var item = Assert.Single(report.Damage);
        Assert.Equal(ObjectNames.Key(keyFileSlot), item.Object);
        Assert.Contains($"key slot {keyFileSlot} is damaged", item.Problem, StringComparison.Ordinal);

        await repo.RemoveKeyAsync(keyFileSlot[..8], Ct);
        Assert.Empty((await repo.ListKeysWithDamageAsync(Ct)).Damaged);
        Assert.True((await new Verifier(repo).VerifyAsync(new VerifyOptions(), null, Ct)).IsHealthy);
    }

    [Fact]
    public async Task A_junk_object_under_keys_does_not_stop_an_intact_slot_from_opening()
    {
        using var t = new TestRepository();
        await using (await t.InitAsync())
        {
        }

        File.WriteAllText(t.PathOf(ObjectNames.Key("0123456789abcdef0123456789abcdef")), "junk, not JSON");
        File.WriteAllText(t.PathOf(ObjectNames.Key("fedcba9876543210fedcba9876543210")), "{\"id\":null}");
        await using var repo = await t.OpenAsync();
        Assert.Equal(2, repo.DamagedKeySlots.Count);
        Assert.NotNull(repo.OpenedSlotId);
    }

    [Fact]
    public async Task When_the_slot_the_key_opens_is_damaged_the_error_names_it_as_damage_not_a_wrong_passphrase()
    {
        using var t = new TestRepository();
        var (keyFileSlot, _) = await TwoSlotsAsync(t);
        Truncate(t.PathOf(ObjectNames.Key(keyFileSlot)));

        var ex = await Assert.ThrowsAsync<DamageException>(() => t.OpenAsync());
        Assert.Equal(ErrorCode.Damage, ex.Code);
        Assert.Equal(3, ex.ExitCode);
        Assert.StartsWith($"key slot {keyFileSlot} is damaged (", ex.Message, StringComparison.Ordinal);
        Assert.EndsWith("no other slot of file://" + t.Root + " opens with the passphrase or key file given", ex.Message, StringComparison.Ordinal);
        Assert.Equal([ObjectNames.Key(keyFileSlot)], ex.DamagedObjects);
        Assert.DoesNotContain("--", ex.Message + ex.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_damaged_only_slot_is_reported_as_damage()
    {
        using var t = new TestRepository();
        string slot;
        await using (var repo = await t.InitAsync())
        {
            slot = repo.OpenedSlotId!;
        }

        File.WriteAllBytes(t.PathOf(ObjectNames.Key(slot)), []);
        var ex = await Assert.ThrowsAsync<DamageException>(() => t.OpenAsync());
        Assert.StartsWith($"key slot {slot} is damaged (it is empty); no other slot", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deleted_only_slot_is_reported_as_damage_not_a_wrong_passphrase()
    {
        using var t = new TestRepository();
        string slot;
        await using (var repo = await t.InitAsync())
        {
            slot = repo.OpenedSlotId!;
        }

        File.Delete(t.PathOf(ObjectNames.Key(slot)));
        var ex = await Assert.ThrowsAsync<DamageException>(() => t.OpenAsync());
        Assert.Contains("has no key slots", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_intact_slots_only_a_wrong_key_is_still_a_wrong_passphrase()
    {
        using var t = new TestRepository();
        await TwoSlotsAsync(t);
        var ex = await Assert.ThrowsAsync<LifeboatException>(() => Repo.OpenAsync(new LocalTarget(t.Root), () => KeyMaterial.FromPassphrase(new Secret("nope"), "test"), TimeProvider.System, null, Ct));
        Assert.Equal(ErrorCode.WrongPassphrase, ex.Code);
    }
}
