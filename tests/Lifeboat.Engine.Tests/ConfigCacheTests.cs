using Lifeboat.Engine.Configuration;

namespace Lifeboat.Engine.Tests;

/// <summary>The configuration is read once per version of the file: an edit, a rewrite or other overrides are seen at once.</summary>
public sealed class ConfigCacheTests
{
    [Fact]
    public void A_load_reuses_the_parsed_file_until_it_is_edited_rewritten_or_the_overrides_change()
    {
        using var dir = new TempDir();
        var path = dir.Combine("lifeboat.json");
        File.WriteAllText(path, """{ "Repository": { "Url": "file:///tmp/one" } }""");
        var config = ConfigFile.Resolve(path, new Dictionary<string, string?>(), dir.Path);
        var empty = new Dictionary<string, string?>();

        var first = config.Load(empty);
        Assert.Same(first, config.Load(empty));
        Assert.Equal("file:///tmp/one", first.Repository.Url);

        config.Edit(root => ConfigFile.Section(root, "Repository")["Url"] = "file:///tmp/two");
        Assert.Equal("file:///tmp/two", config.Load(empty).Repository.Url);

        // Rewritten by another program, to the same length: a new file (inode, times).
        File.WriteAllText(path, """{ "Repository": { "Url": "file:///tmp/six" } }""");
        Assert.Equal("file:///tmp/six", config.Load(empty).Repository.Url);

        var overridden = new Dictionary<string, string?> { ["LIFEBOAT__Repository__Url"] = "file:///tmp/env" };
        Assert.Equal("file:///tmp/env", config.Load(overridden).Repository.Url);
        Assert.Equal("file:///tmp/six", config.Load(empty).Repository.Url);
    }

    [Fact]
    public void A_file_made_invalid_after_a_good_read_is_reported_not_answered_from_the_cache()
    {
        using var dir = new TempDir();
        var path = dir.Combine("lifeboat.json");
        File.WriteAllText(path, """{ "Repository": { "Url": "file:///tmp/one" } }""");
        var config = ConfigFile.Resolve(path, new Dictionary<string, string?>(), dir.Path);
        Assert.Equal("file:///tmp/one", config.Load(new Dictionary<string, string?>()).Repository.Url);

        File.WriteAllText(path, """{ "Repository": { "Url": """);
        var ex = Assert.Throws<Lifeboat.Core.LifeboatException>(() => config.Load(new Dictionary<string, string?>()));
        Assert.Contains("not valid JSON", ex.Message, StringComparison.Ordinal);
    }
}
