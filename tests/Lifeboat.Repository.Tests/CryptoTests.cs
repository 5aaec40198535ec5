using System.Security.Cryptography;
using Lifeboat.Repository.Crypto;

namespace Lifeboat.Repository.Tests;

public sealed class CryptoTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Sealed_bytes_open_to_the_original_plaintext(bool encrypted)
    {
        using var sealer = encrypted ? Sealer.Encrypted(RandomNumberGenerator.GetBytes(32)) : Sealer.Unencrypted();
        foreach (var length in new[] { 0, 1, 15, 16, 17, 8192, 131072 + 3 })
        {
            var plaintext = TestData.Random(length, length);
            var sealedBytes = sealer.Seal(plaintext, SealKind.Frame);
            Assert.Equal(length + sealer.Overhead, sealedBytes.Length);
            var opened = new byte[length];
            Assert.True(sealer.TryOpen(sealedBytes, opened, SealKind.Frame));
            Assert.Equal(plaintext, opened);
        }
    }

    [Fact]
    public void Encryption_hides_the_plaintext_and_uses_a_fresh_nonce_each_time()
    {
        using var sealer = Sealer.Encrypted(RandomNumberGenerator.GetBytes(32));
        var plaintext = TestData.Text(4096, 1);
        var a = sealer.Seal(plaintext, SealKind.Frame);
        var b = sealer.Seal(plaintext, SealKind.Frame);
        Assert.NotEqual(a, b);
        Assert.NotEqual(a[..12], b[..12]);
        Assert.False(a.AsSpan().IndexOf(plaintext.AsSpan(0, 64)) >= 0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Flipping_any_byte_of_a_sealed_object_is_detected(bool encrypted)
    {
        using var sealer = encrypted ? Sealer.Encrypted(RandomNumberGenerator.GetBytes(32)) : Sealer.Unencrypted();
        var plaintext = TestData.Text(300, 7);
        var sealedBytes = sealer.Seal(plaintext, SealKind.Manifest);
        for (var i = 0; i < sealedBytes.Length; i++)
        {
            var damaged = sealedBytes.ToArray();
            damaged[i] ^= 0x01;
            Assert.False(sealer.TryOpen(damaged, new byte[plaintext.Length], SealKind.Manifest), $"a flipped byte at {i} was not detected");
        }
    }

    [Fact]
    public void An_object_sealed_as_one_kind_does_not_open_as_another()
    {
        using var sealer = Sealer.Encrypted(RandomNumberGenerator.GetBytes(32));
        var sealedBytes = sealer.Seal(TestData.Text(100, 3), SealKind.Frame);
        Assert.False(sealer.TryOpen(sealedBytes, new byte[100], SealKind.Manifest));
        Assert.True(sealer.TryOpen(sealedBytes, new byte[100], SealKind.Frame));
    }

    [Fact]
    public void An_object_sealed_with_another_key_does_not_open()
    {
        using var a = Sealer.Encrypted(RandomNumberGenerator.GetBytes(32));
        using var b = Sealer.Encrypted(RandomNumberGenerator.GetBytes(32));
        var sealedBytes = a.Seal(TestData.Text(100, 3), SealKind.Index);
        Assert.False(b.TryOpen(sealedBytes, new byte[100], SealKind.Index));
    }

    [Fact]
    public void A_truncated_sealed_object_does_not_open()
    {
        using var sealer = Sealer.Encrypted(RandomNumberGenerator.GetBytes(32));
        var sealedBytes = sealer.Seal(TestData.Text(100, 3), SealKind.Index);
        for (var cut = 0; cut < sealedBytes.Length; cut += 7)
        {
            var length = Math.Max(0, cut - sealer.Overhead);
            Assert.False(sealer.TryOpen(sealedBytes.AsSpan(0, cut), new byte[length], SealKind.Index));
        }
    }

    [Fact]
    public void Codec_compresses_compressible_bodies_and_stores_incompressible_ones_raw()
    {
        using var sealer = Sealer.Encrypted(RandomNumberGenerator.GetBytes(32));
        using var codec = new ObjectCodec(sealer, 3);
        var text = TestData.Text(128 * 1024, 5);
        var noise = TestData.Random(128 * 1024, 5);
        byte[] output = [];
        var textLength = codec.Encode(text, compress: true, SealKind.Frame, ref output, out var textCompressed);
        Assert.True(textCompressed);
        Assert.True(textLength < text.Length / 2, $"text compressed to {textLength}");
        Assert.Equal(text, codec.TryDecode(output.AsSpan(0, textLength), SealKind.Frame, out _));

        var noiseLength = codec.Encode(noise, compress: true, SealKind.Frame, ref output, out var noiseCompressed);
        Assert.False(noiseCompressed);
        Assert.Equal(noise.Length + 1 + sealer.Overhead, noiseLength);
        Assert.Equal(noise, codec.TryDecode(output.AsSpan(0, noiseLength), SealKind.Frame, out _));
    }

    [Fact]
    public void Chunk_ids_are_keyed_so_another_repository_key_gives_other_ids()
    {
        var chunk = TestData.Text(8192, 1);
        using var a = new ChunkHasher(RandomNumberGenerator.GetBytes(32));
        using var b = new ChunkHasher(RandomNumberGenerator.GetBytes(32));
        Assert.Equal(a.Compute(chunk), a.Compute(chunk));
        Assert.NotEqual(a.Compute(chunk), b.Compute(chunk));
        Assert.NotEqual(Convert.ToHexStringLower(SHA256.HashData(chunk)), a.Compute(chunk).ToString());
    }

    [Fact]
    public void Chunk_id_is_the_hmac_sha256_of_the_content_as_the_format_says()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var chunk = TestData.Text(1000, 2);
        using var hasher = new ChunkHasher(key);
        Assert.Equal(Convert.ToHexStringLower(HMACSHA256.HashData(key, chunk)), hasher.Compute(chunk).ToString());
    }
}
