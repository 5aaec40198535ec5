using System.Security.Cryptography;
using System.Text;

namespace Lifeboat.Testing;

/// <summary>Deterministic test data: the same seed gives the same bytes on every machine.</summary>
public static class TestData
{
    /// <summary>Incompressible bytes.</summary>
    public static byte[] Random(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Text-like bytes that compress roughly 3:1.</summary>
    public static byte[] Text(int length, int seed)
    {
        var random = new Random(seed);
        var words = new[] { "invoice", "customer", "total", "paid", "order", "shipment", "euro", "2026-11-22", "status", "pending", "lifeboat", "event", "score" };
        var sb = new StringBuilder(length + 64);
        while (sb.Length < length)
        {
            sb.Append(words[random.Next(words.Length)]).Append(' ').Append(random.Next(100000)).Append(random.Next(8) == 0 ? '\n' : ' ');
        }

        return Encoding.ASCII.GetBytes(sb.ToString(0, length));
    }

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>Writes a small application-like tree and returns the number of files.</summary>
    public static int WriteTree(string root, int seed, int files = 30)
    {
        var random = new Random(seed);
        Directory.CreateDirectory(root);
        for (var i = 0; i < files; i++)
        {
            var dir = Path.Combine(root, $"d{i % 4}", $"sub{i % 3}");
            Directory.CreateDirectory(dir);
            var size = random.Next(4) switch { 0 => 0, 1 => random.Next(1, 100), 2 => random.Next(1000, 50_000), _ => random.Next(200_000, 700_000) };
            File.WriteAllBytes(Path.Combine(dir, $"f{i}.dat"), i % 2 == 0 ? Text(size, seed + i) : Random(size, seed + i));
        }

        Directory.CreateDirectory(Path.Combine(root, "empty"));
        File.CreateSymbolicLink(Path.Combine(root, "link"), "d0/sub0/f0.dat");
        File.SetUnixFileMode(Path.Combine(root, "d1"), (UnixFileMode)0b111_101_000);
        return files;
    }
}
