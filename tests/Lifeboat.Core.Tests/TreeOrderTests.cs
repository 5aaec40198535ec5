using System.Text;

namespace Lifeboat.Core.Tests;

public sealed class TreeOrderTests
{
    private static int Sign(string? x, string? y) => Math.Sign(TreeOrder.Instance.Compare(x, y));

    [Fact]
    public void A_directory_sorts_right_before_its_contents_and_its_contents_before_its_next_sibling()
    {
        Assert.Equal(-1, Sign("a", "a/x"));
        Assert.Equal(-1, Sign("a/x", "a.b"));
        Assert.Equal(-1, Sign("a", "a.b"));
        Assert.Equal(1, Sign("a.b", "a/x"));
    }

    [Fact]
    public void A_slash_sorts_before_every_other_character()
    {
        // By code point ' ', '!', '-' and '.' come before '/', but a directory's contents still come first.
        Assert.Equal(-1, Sign("a/z", "a b"));
        Assert.Equal(-1, Sign("a/z", "a!"));
        Assert.Equal(-1, Sign("a/z", "a-b"));
        Assert.Equal(-1, Sign("a/z", "a.b"));
        Assert.Equal(-1, Sign("a/\uFFFF", "a\u0001"));
    }

    [Fact]
    public void Sorting_gives_a_depth_first_walk_with_siblings_in_code_point_order()
    {
        string[] expected =
        [
            "",
            "a",
            "a/b",
            "a/b/c",
            "a/b/c/d",
            "a/b-c",
            "a/b.c",
            "a/bc",
            "a b",
            "a-b",
            "a-b/x",
            "a.b",
            "aa",
            "b",
            "\u00e9",
            "\u00e9/x",
            "\uFFFD",
            "\U0001F600",
        ];
        var shuffled = expected.OrderBy(p => TestData.Sha256(Encoding.UTF8.GetBytes(p)), StringComparer.Ordinal).ToList();
        Assert.NotEqual(expected, shuffled);

        shuffled.Sort(TreeOrder.Instance);

        Assert.Equal(expected, shuffled);
    }

    [Theory]
    [InlineData("\uE000", "\U0001F600")]
    [InlineData("\uFFFD", "\U00010000")]
    [InlineData("\uFFFF", "\U00010000")]
    [InlineData("z", "\U0001F600")]
    [InlineData("\U0001F600", "\U0001F601")]
    [InlineData("\U0001F600", "\U0010FFFF")]
    [InlineData("dir/\uFF5E", "dir/\U0001F600")]
    public void Characters_beyond_the_BMP_sort_by_code_point_after_every_BMP_character(string lower, string higher)
    {
        // UTF-16 ordinal order would put the surrogate pair (0xD83D…) before U+E000..U+FFFF.
        Assert.Equal(-1, Sign(lower, higher));
        Assert.Equal(1, Sign(higher, lower));
    }

    [Fact]
    public void The_order_is_the_order_of_the_components_UTF8_bytes()
    {
        // Reference: compare component by component, each by its UTF-8 bytes; a prefix sorts first.
        static int Reference(string x, string y)
        {
            var a = x.Split('/');
            var b = y.Split('/');
            for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                var c = Encoding.UTF8.GetBytes(a[i]).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b[i]));
                if (c != 0)
                {
                    return Math.Sign(c);
                }
            }

            return a.Length.CompareTo(b.Length);
        }

        string[] alphabet = ["/", "a", "b", "-", ".", " ", "~", "\u00e9", "\u0800", "\uD7FF", "\uE000", "\uFFFD", "\U0001F600", "\U00010000", "\U0010FFFF"];
        var random = new Random(42);
        string RandomPath()
        {
            var sb = new StringBuilder();
            var n = random.Next(1, 7);
            for (var i = 0; i < n; i++)
            {
                sb.Append(alphabet[random.Next(alphabet.Length)]);
            }

            return sb.ToString();
        }

        for (var i = 0; i < 20_000; i++)
        {
            var x = RandomPath();
            var y = RandomPath();
            Assert.True(Reference(x, y) == Sign(x, y), $"'{x}' vs '{y}': expected {Reference(x, y)}, got {Sign(x, y)}");
        }
    }

    [Fact]
    public void Equal_paths_compare_equal_and_the_order_is_antisymmetric()
    {
        Assert.Equal(0, Sign("a/b", "a/b"));
        Assert.Equal(0, Sign("a/b", new string("a/b".AsSpan())));
        Assert.Equal(0, Sign("", ""));
        Assert.Equal(-1, Sign("a", "b"));
        Assert.Equal(1, Sign("b", "a"));
    }

    [Fact]
    public void Null_sorts_before_every_path()
    {
        Assert.Equal(0, Sign(null, null));
        Assert.Equal(-1, Sign(null, ""));
        Assert.Equal(1, Sign("", null));
    }
}
