using Lifeboat.Core;
using Lifeboat.Repository.Crypto;

namespace Lifeboat.Engine.Configuration;

/// <summary>Key sources given on the command line, and an interactive prompt when there is a terminal.</summary>
public sealed record KeyOptions
{
    public string? PassphraseFile { get; init; }

    public string? KeyFile { get; init; }

    /// <summary>Asks for a passphrase interactively; null when there is no terminal.</summary>
    public Func<string, Secret?>? Prompt { get; init; }
}

/// <summary>
/// Finds the key that opens the repository, in this order: --key-file, --passphrase-file, $LIFEBOAT_PASSPHRASE,
/// Repository:KeyFile, Repository:PassphraseFile, then an interactive prompt.
/// </summary>
public static class KeyResolver
{
    public const string PassphraseVariable = "LIFEBOAT_PASSPHRASE";

    public static KeyMaterial? Resolve(RepositoryOptions repository, KeyOptions cli, IReadOnlyDictionary<string, string?> environment, string workingDirectory)
    {
        if (cli.KeyFile is not null)
        {
            return KeyMaterial.FromKeyFile(Path.GetFullPath(cli.KeyFile, workingDirectory));
        }

        if (cli.PassphraseFile is not null)
        {
            return KeyMaterial.FromPassphraseFile(Path.GetFullPath(cli.PassphraseFile, workingDirectory));
        }

        if (environment.TryGetValue(PassphraseVariable, out var passphrase) && !string.IsNullOrEmpty(passphrase))
        {
            return KeyMaterial.FromPassphrase(new Secret(passphrase), "$" + PassphraseVariable);
        }

        if (!string.IsNullOrEmpty(repository.KeyFile))
        {
            return KeyMaterial.FromKeyFile(Path.GetFullPath(repository.KeyFile, workingDirectory));
        }

        if (!string.IsNullOrEmpty(repository.PassphraseFile))
        {
            return KeyMaterial.FromPassphraseFile(Path.GetFullPath(repository.PassphraseFile, workingDirectory));
        }

        var prompted = cli.Prompt?.Invoke("Repository passphrase: ");
        return prompted is null ? null : KeyMaterial.FromPassphrase(prompted, "the passphrase typed");
    }
}
