using Lifeboat.Repository;
using Lifeboat.Repository.Crypto;
using Lifeboat.Targets;
using Lifeboat.Targets.Local;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Testing;

/// <summary>Creates and opens repositories in a temp directory (a key file: no slow key derivation in tests).</summary>
public sealed class TestRepository : IDisposable
{
    private readonly TempDir _dir = new("lifeboat-repo-");

    public TestRepository(bool encrypted = true)
    {
        Encrypted = encrypted;
        KeyFile = _dir.Combine("repo.key");
        if (encrypted)
        {
            Key = KeyMaterial.CreateKeyFile(KeyFile);
        }
    }

    public bool Encrypted { get; }

    public string Root => _dir.Combine("repo");

    public string Url => "file://" + Root;

    public string KeyFile { get; }

    public KeyMaterial? Key { get; }

    public TempDir Dir => _dir;

    public async Task<Repo> InitAsync(InitOptions? options = null, Func<ITarget, ITarget>? wrap = null)
    {
        options ??= new InitOptions();
        options = options with { Key = Encrypted ? Key : null, InsecureNoEncryption = !Encrypted };
        return await Repo.InitAsync(Wrap(wrap), options, TimeProvider.System, null, CancellationToken.None);
    }

    public async Task<Repo> OpenAsync(Func<ITarget, ITarget>? wrap = null, TimeProvider? time = null)
        => await Repo.OpenAsync(Wrap(wrap), () => Key, time ?? TimeProvider.System, null, CancellationToken.None);

    /// <summary>The path of an object on disk.</summary>
    public string PathOf(string objectName) => Path.Combine(Root, objectName.Replace('/', Path.DirectorySeparatorChar));

    public IEnumerable<string> Objects(string prefix)
        => Directory.Exists(Path.Combine(Root, prefix))
            ? Directory.EnumerateFiles(Path.Combine(Root, prefix), "*", SearchOption.AllDirectories)
                .Where(f => !f.Contains(".tmp-", StringComparison.Ordinal))
                .Select(f => Path.GetRelativePath(Root, f).Replace(Path.DirectorySeparatorChar, '/'))
                .Order(StringComparer.Ordinal)
            : [];

    public void Dispose() => _dir.Dispose();

    private ITarget Wrap(Func<ITarget, ITarget>? wrap)
    {
        ITarget target = new LocalTarget(Root);
        return wrap is null ? target : wrap(target);
    }
}
