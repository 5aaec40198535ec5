namespace Lifeboat.Testing;

/// <summary>A directory removed with everything in it when disposed.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "lifeboat-test-")
    {
        Path = Directory.CreateTempSubdirectory(prefix).FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Creates a subdirectory and returns its path.</summary>
    public string Dir(params string[] parts)
    {
        var p = Combine(parts);
        Directory.CreateDirectory(p);
        return p;
    }

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path))
            {
                // Tests may leave read-only directories behind.
                foreach (var d in Directory.EnumerateDirectories(Path, "*", SearchOption.AllDirectories))
                {
                    try
                    {
                        File.SetUnixFileMode(d, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                    }
                    catch (IOException)
                    {
                    }
                    catch (UnauthorizedAccessException)
                    {
                    }
                }

                Directory.Delete(Path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public override string ToString() => Path;
}
