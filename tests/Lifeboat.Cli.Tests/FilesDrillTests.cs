using System.Text.Json;

namespace Lifeboat.Cli.Tests;

/// <summary>`lifeboat drill` of a file tree: restored into a scratch directory and every file checked against its chunk ids.</summary>
public sealed class FilesDrillTests
{
    private static JsonElement Check(JsonElement report, string name)
        => report.GetProperty("checks").EnumerateArray().First(c => c.GetProperty("name").GetString() == name);

    [Fact]
    public async Task A_files_drill_restores_and_checks_every_file_and_a_damaged_pack_fails_it_naming_the_pack()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var scratch = f.Dir.Combine("scratch");
        Directory.CreateDirectory(scratch);
        var config = f.Dir.Combine("lifeboat.json");
        File.WriteAllText(config, File.ReadAllText(config).TrimEnd().TrimEnd('}') + $",\"Drill\":{{\"ScratchDirectory\":\"{scratch}\",\"ReportsDirectory\":\"{f.Dir.Combine("reports")}\"}}}}");
        await f.Cli.OkAsync("backup", "--source", "app");
        var files = new DirectoryInfo(f.Source).EnumerateFiles("*", SearchOption.AllDirectories).Count(i => i.LinkTarget is null);

        var drill = await f.Cli.RunAsync("drill", "--source", "app", "--json");
        Assert.True(drill.ExitCode == 0, drill.ToString());
        var report = JsonDocument.Parse(drill.Out).RootElement;
        Assert.Equal("passed", report.GetProperty("result").GetString());
        var content = Check(report, "content");
        Assert.Equal("passed", content.GetProperty("status").GetString());
        Assert.Contains($"all {files} files", content.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(report.GetProperty("rto").GetProperty("seconds").GetDouble() > 0);
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch));
        Assert.True(File.Exists(report.GetProperty("reports").GetProperty("html").GetString()));

        var human = await f.Cli.RunAsync("drill", "--source", "app");
        Assert.Equal(0, human.ExitCode);
        Assert.Contains("of 'app': PASSED", human.Out, StringComparison.Ordinal);

        var pack = Directory.EnumerateFiles(Path.Combine(f.RepoPath, "data"), "*", SearchOption.AllDirectories).OrderByDescending(p => new FileInfo(p).Length).First();
        var bytes = File.ReadAllBytes(pack);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(pack, bytes);
        var name = "data/" + Path.GetRelativePath(Path.Combine(f.RepoPath, "data"), pack);
        var damaged = await f.Cli.RunAsync("drill", "--source", "app");
        Assert.True(damaged.ExitCode == 3, damaged.ToString());
        Assert.Contains("FAILED", damaged.Out, StringComparison.Ordinal);
        Assert.Contains(name, damaged.Out, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(scratch));
    }
}
