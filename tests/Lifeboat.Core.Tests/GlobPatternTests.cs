namespace Lifeboat.Core.Tests;

public sealed class GlobPatternTests
{
    private static bool File(string pattern, string path) => new GlobPattern(pattern).IsMatch(path, isDirectory: false);

    private static bool Dir(string pattern, string path) => new GlobPattern(pattern).IsMatch(path, isDirectory: true);

    [Theory]
    [InlineData("*.log", "app.log", true)]
    [InlineData("*.log", "var/log/app.log", true)]
    [InlineData("*.log", ".log", true)]
    [InlineData("*.log", "app.log.1", false)]
    [InlineData("*.log", "app.txt", false)]
    [InlineData("*.log", "app.log/readme", false)]
    [InlineData("node_modules", "node_modules", true)]
    [InlineData("node_modules", "web/node_modules", true)]
    [InlineData("node_modules", "a/b/c/node_modules", true)]
    [InlineData("node_modules", "node_modules_old", false)]
    [InlineData("node_modules", "xnode_modules", false)]
    [InlineData("node_modules", "node_modules/x", false)]
    public void A_pattern_without_a_slash_matches_the_last_component_at_any_depth(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, File(pattern, path));
    }

    [Theory]
    [InlineData("web/node_modules", "web/node_modules", true)]
    [InlineData("web/node_modules", "app/web/node_modules", false)]
    [InlineData("logs/*.log", "logs/a.log", true)]
    [InlineData("logs/*.log", "x/logs/a.log", false)]
    [InlineData("/build", "build", true)]
    [InlineData("/build", "src/build", false)]
    [InlineData("/etc/passwd", "etc/passwd", true)]
    [InlineData("/etc/passwd", "root/etc/passwd", false)]
    public void A_pattern_with_a_slash_is_anchored_at_the_source_root(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, File(pattern, path));
    }

    [Theory]
    [InlineData("logs/*.log", "logs/old/a.log", false)]
    [InlineData("logs/*", "logs/a", true)]
    [InlineData("logs/*", "logs/a/b", false)]
    [InlineData("a*b", "a/b", false)]
    [InlineData("a*b", "axxb", true)]
    [InlineData("a*b", "ab", true)]
    public void A_star_matches_any_characters_except_a_slash(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, File(pattern, path));
    }

    [Theory]
    [InlineData("logs/**", "logs/a", true)]
    [InlineData("logs/**", "logs/a/b/c.log", true)]
    [InlineData("logs/**", "logs", false)]
    [InlineData("logs/**", "other/logs/a", false)]
    [InlineData("**/*.tmp", "a.tmp", true)]
    [InlineData("**/*.tmp", "x/y/z/a.tmp", true)]
    [InlineData("**/*.tmp", "x/y/z/a.tmp/b", false)]
    [InlineData("cache/**/obj", "cache/obj", true)]
    [InlineData("cache/**/obj", "cache/a/b/obj", true)]
    [InlineData("cache/**/obj", "cache/aobj", false)]
    [InlineData("cache/**/obj", "cache/a/obj/x", false)]
    [InlineData("a**z", "a/b/c/z", true)]
    [InlineData("**", "anything/at/all", true)]
    public void A_double_star_matches_across_directories(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, File(pattern, path));
    }

    [Theory]
    [InlineData("file?.txt", "file1.txt", true)]
    [InlineData("file?.txt", "dir/fileA.txt", true)]
    [InlineData("file?.txt", "file10.txt", false)]
    [InlineData("file?.txt", "file.txt", false)]
    [InlineData("a?b", "a/b", false)]
    public void A_question_mark_matches_one_character_except_a_slash(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, File(pattern, path));
    }

    [Theory]
    [InlineData("data[12].csv", "data1.csv", true)]
    [InlineData("data[12].csv", "data2.csv", true)]
    [InlineData("data[12].csv", "data3.csv", false)]
    [InlineData("data[12].csv", "data12.csv", false)]
    [InlineData("[a-c]x", "bx", true)]
    [InlineData("[a-c]x", "dx", false)]
    [InlineData("[.]cache", ".cache", true)]
    [InlineData("[.]cache", "xcache", false)]
    [InlineData("[*]", "*", true)]
    [InlineData("[*]", "a", false)]
    public void A_character_class_matches_one_of_its_characters(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, File(pattern, path));
    }

    [Theory]
    [InlineData("data[!12].csv", "data3.csv", true)]
    [InlineData("data[!12].csv", "data1.csv", false)]
    [InlineData("data[!12].csv", "data2.csv", false)]
    [InlineData("[!.]*", "visible", true)]
    [InlineData("[!.]*", ".hidden", false)]
    public void A_negated_character_class_matches_one_character_not_in_it(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, File(pattern, path));
    }

    [Theory]
    [InlineData("a[!x]b", "a/b")]
    [InlineData("foo[!.]bar", "x/foo/bar")]
    [InlineData("logs/a[!x]b", "logs/a/b")]
    public void A_negated_character_class_never_matches_a_slash(string pattern, string path)
    {
        // Like '?', a class stands for one character of a component: '/' is never part of a name.
        Assert.False(File(pattern, path));
    }

    [Fact]
    public void A_trailing_slash_matches_directories_only()
    {
        var logs = new GlobPattern("logs/");

        Assert.True(logs.DirectoryOnly);
        Assert.True(logs.IsMatch("logs", isDirectory: true));
        Assert.True(logs.IsMatch("srv/app/logs", isDirectory: true));
        Assert.False(logs.IsMatch("logs", isDirectory: false));
        Assert.False(logs.IsMatch("srv/app/logs", isDirectory: false));
    }

    [Fact]
    public void A_trailing_slash_on_an_anchored_pattern_keeps_it_anchored()
    {
        var cache = new GlobPattern("var/cache/");

        Assert.True(cache.DirectoryOnly);
        Assert.True(cache.IsMatch("var/cache", isDirectory: true));
        Assert.False(cache.IsMatch("srv/var/cache", isDirectory: true));
        Assert.False(cache.IsMatch("var/cache", isDirectory: false));
    }

    [Fact]
    public void A_pattern_without_a_trailing_slash_matches_files_and_directories()
    {
        Assert.False(new GlobPattern("logs").DirectoryOnly);
        Assert.True(File("logs", "logs"));
        Assert.True(Dir("logs", "logs"));
    }

    [Theory]
    [InlineData("*.LOG", "app.log", false)]
    [InlineData("README", "readme", false)]
    [InlineData("README", "README", true)]
    [InlineData("caf\u00e9", "caf\u00e9", true)]
    [InlineData("caf\u00e9", "CAF\u00c9", false)]
    public void Matching_is_case_sensitive(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, File(pattern, path));
    }

    [Theory]
    [InlineData("a.b", "axb", false)]
    [InlineData("a.b", "a.b", true)]
    [InlineData("a+b(1)$^|{2}.txt", "a+b(1)$^|{2}.txt", true)]
    [InlineData("a+b", "aab", false)]
    [InlineData("back\\slash", "back\\slash", true)]
    [InlineData("with space", "dir/with space", true)]
    public void Characters_other_than_wildcards_match_themselves(string pattern, string path, bool expected)
    {
        Assert.Equal(expected, File(pattern, path));
    }

    [Theory]
    [InlineData("cache/", "cache/a/b.txt", false, true)]
    [InlineData("cache/", "cache", true, true)]
    [InlineData("cache/", "cache", false, false)]
    [InlineData("logs", "srv/logs/2026/app.log", false, true)]
    [InlineData("data/*", "data/x/y/z", false, true)]
    [InlineData("data/*", "data", true, false)]
    [InlineData("etc/nginx", "etc/nginx/sites/default", false, true)]
    [InlineData("etc/nginx", "etc/nginx-old/x", false, false)]
    [InlineData("etc/nginx", "etc", true, false)]
    [InlineData("*.txt", "a/b/c.bin", false, false)]
    [InlineData("*.txt", "a.txt/b/c.bin", false, true)]
    public void MatchesSelfOrParent_matches_a_path_or_any_directory_above_it(string pattern, string path, bool isDirectory, bool expected)
    {
        Assert.Equal(expected, new GlobPattern(pattern).MatchesSelfOrParent(path, isDirectory));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\t")]
    public void An_empty_pattern_is_invalid_input(string pattern)
    {
        var error = Assert.Throws<LifeboatException>(() => new GlobPattern(pattern));

        Assert.Equal("an empty glob pattern", error.Message);
        Assert.Equal("write a pattern such as '*.log' or 'cache/**'", error.Hint);
        Assert.Equal(ErrorCode.InvalidInput, error.Code);
    }

    [Theory]
    [InlineData("a[bc")]
    [InlineData("[")]
    [InlineData("logs/[!x")]
    public void An_unclosed_character_class_is_invalid_input(string pattern)
    {
        var error = Assert.Throws<LifeboatException>(() => new GlobPattern(pattern));

        Assert.Equal($"glob pattern '{pattern}' has an unclosed '['", error.Message);
        Assert.Equal("close the character class or escape it", error.Hint);
        Assert.Equal(ErrorCode.InvalidInput, error.Code);
    }

    [Theory]
    [InlineData("a[]b")]
    [InlineData("a[!]b")]
    public void An_empty_character_class_is_invalid_input(string pattern)
    {
        var error = Assert.Throws<LifeboatException>(() => new GlobPattern(pattern));

        Assert.Equal($"glob pattern '{pattern}' has an empty character class", error.Message);
        Assert.Equal(ErrorCode.InvalidInput, error.Code);
    }

    [Fact]
    public void A_pattern_prints_as_written()
    {
        Assert.Equal("/var/cache/", new GlobPattern("/var/cache/").ToString());
        Assert.Equal("/var/cache/", new GlobPattern("/var/cache/").Pattern);
    }
}
