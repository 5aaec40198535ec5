using System.Security.Cryptography;
using System.Text;

namespace Lifeboat.Benchmarks;

/// <summary>Fixed keys, so chunk boundaries (which depend on the chunker key) are the same in every run.</summary>
internal static class Keys
{
    public static byte[] Derive(string label) => SHA256.HashData(Encoding.ASCII.GetBytes("lifeboat-bench/" + label));
}
