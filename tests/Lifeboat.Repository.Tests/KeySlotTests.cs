using System.Text;
using Lifeboat.Core;
using Lifeboat.Repository.Crypto;

namespace Lifeboat.Repository.Tests;

public sealed class KeySlotTests
{
    [Fact]
    public void A_passphrase_slot_opens_with_its_passphrase_only()
    {
        var master = MasterKey.Generate();
        var slot = KeySlot.Create(master, KeyMaterial.FromPassphrase(new Secret("correct horse"), "test"), DateTimeOffset.UnixEpoch, "test");
        Assert.Equal("pbkdf2-sha256", slot.Kdf.Algorithm);
        Assert.True(slot.Kdf.Iterations >= 600_000);
        var opened = slot.TryUnwrap(KeyMaterial.FromPassphrase(new Secret("correct horse"), "test"));
        Assert.NotNull(opened);
        Assert.Equal(master.EncKey, opened.EncKey);
        Assert.Equal(master.IdKey, opened.IdKey);
        Assert.Null(slot.TryUnwrap(KeyMaterial.FromPassphrase(new Secret("wrong horse"), "test")));
    }

    [Fact]
    public void A_key_file_slot_opens_with_its_key_file_and_survives_a_json_round_trip()
    {
        using var dir = new TempDir();
        var key = KeyMaterial.CreateKeyFile(dir.Combine("k"));
        var other = KeyMaterial.CreateKeyFile(dir.Combine("other"));
        var master = MasterKey.Generate();
        var slot = KeySlot.Parse(KeySlot.Create(master, key, DateTimeOffset.UnixEpoch, null).ToJson(), "keys/x");
        Assert.Equal("hkdf-sha256", slot.Kdf.Algorithm);
        Assert.Equal(master.MacKey, slot.TryUnwrap(KeyMaterial.FromKeyFile(dir.Combine("k")))!.MacKey);
        Assert.Null(slot.TryUnwrap(other));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(dir.Combine("k")));
    }

    [Fact]
    public void A_slot_weakened_below_the_minimum_iterations_is_refused()
    {
        var master = MasterKey.Generate();
        var slot = KeySlot.Create(master, KeyMaterial.FromPassphrase(new Secret("pw"), "t"), DateTimeOffset.UnixEpoch, null);
        var json = Encoding.UTF8.GetString(slot.ToJson()).Replace($"\"iterations\": {slot.Kdf.Iterations}", "\"iterations\": 1000", StringComparison.Ordinal);
        var weakened = KeySlot.Parse(Encoding.UTF8.GetBytes(json), "keys/x");
        var ex = Assert.Throws<LifeboatException>(() => weakened.TryUnwrap(KeyMaterial.FromPassphrase(new Secret("pw"), "t")));
        Assert.Contains("fewer than the minimum 600000", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_passphrase_file_loses_one_trailing_newline_only()
    {
        using var dir = new TempDir();
        var master = MasterKey.Generate();
        File.WriteAllText(dir.Combine("p"), "secret \n");
        var slot = KeySlot.Create(master, KeyMaterial.FromPassphraseFile(dir.Combine("p")), DateTimeOffset.UnixEpoch, null);
        Assert.NotNull(slot.TryUnwrap(KeyMaterial.FromPassphrase(new Secret("secret "), "t")));
        Assert.Null(slot.TryUnwrap(KeyMaterial.FromPassphrase(new Secret("secret"), "t")));
    }

    [Fact]
    public void A_file_that_is_not_a_key_file_is_rejected_with_a_clear_message()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Combine("k"), "hello");
        var ex = Assert.Throws<LifeboatException>(() => KeyMaterial.FromKeyFile(dir.Combine("k")));
        Assert.Equal(2, ex.ExitCode);
        Assert.Equal($"{dir.Combine("k")} is not a Lifeboat key file", ex.Message);
    }

    [Fact]
    public void Key_material_never_shows_the_secret()
    {
        var material = KeyMaterial.FromPassphrase(new Secret("hunter2-secret"), "$LIFEBOAT_PASSPHRASE");
        Assert.DoesNotContain("hunter2", material.Description, StringComparison.Ordinal);
        Assert.Equal("***", new Secret("hunter2-secret").ToString());
    }
}
