namespace Lifeboat.Core.Tests;

public sealed class RawPathTests
{
    [Fact]
    public void A_utf8_name_is_its_ordinary_string()
    {
        Assert.Equal("ünï ✓ 😀", RawPath.FromBytes("ünï ✓ 😀"u8));
        Assert.False(RawPath.HasRawBytes("ünï ✓ 😀"));
        Assert.Equal("ünï ✓ 😀", RawPath.Display("ünï ✓ 😀"));
    }

    [Fact]
    public void Bytes_that_are_not_utf8_are_kept_and_shown_escaped()
    {
        byte[] bytes = [0x66, 0xff, 0x6f, 0xc3, 0xa9, 0xc3, 0xed, 0xa0, 0x80];
        var raw = RawPath.FromBytes(bytes);
        Assert.True(RawPath.HasRawBytes(raw));
        Assert.Equal(bytes, RawPath.ToBytes(raw));
        Assert.Equal("f\\xffoé\\xc3\\xed\\xa0\\x80", RawPath.Display(raw));
    }

    [Fact]
    public void Every_byte_string_round_trips_and_tree_order_is_byte_order()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var names = new List<byte[]>();
        for (var i = 0; i < 2000; i++)
        {
            var name = new byte[random.Next(1, 40)];
            for (var k = 0; k < name.Length; k++)
            {
                // Mostly the bytes where UTF-8 is subtle (lead, continuation, surrogate and overlong sequences), some ASCII and '/'.
                name[k] = random.Next(6) switch { 0 => (byte)'/', 1 => (byte)random.Next(0x20, 0x7f), 2 => (byte)random.Next(0xc0, 0xc4), 3 => 0xed, _ => (byte)random.Next(0x80, 0x100) };
            }

            names.Add(name);
            var raw = RawPath.FromBytes(name);
            Assert.True(name.AsSpan().SequenceEqual(RawPath.ToBytes(raw)), $"seed {seed}: {Convert.ToHexString(name)} did not round-trip");
        }

        // Tree order on the raw strings must be the order of the bytes, '/' first (repository format, section 9).
        static int Bytes(byte[] a, byte[] b)
        {
            for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                if (a[i] != b[i])
                {
                    return a[i] == '/' ? -1 : b[i] == '/' ? 1 : a[i].CompareTo(b[i]);
                }
            }

            return a.Length.CompareTo(b.Length);
        }

        for (var i = 0; i + 1 < names.Count; i++)
        {
            var expected = Math.Sign(Bytes(names[i], names[i + 1]));
            var actual = Math.Sign(TreeOrder.Instance.Compare(RawPath.FromBytes(names[i]), RawPath.FromBytes(names[i + 1])));
            Assert.True(expected == actual, $"seed {seed}: {Convert.ToHexString(names[i])} vs {Convert.ToHexString(names[i + 1])}: tree order {actual}, bytes {expected}");
        }
    }
}
