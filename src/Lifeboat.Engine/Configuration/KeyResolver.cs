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

/// <summary>New keys: a key file (created when missing), a passphrase file, or a passphrase from the environment or typed twice.</summary>
public static class NewKeys
{
    /// <summary>A key file's material, creating the file when it does not exist; <paramref name="created"/> says which.</summary>
    public static KeyMaterial FromKeyFile(string path, out bool created)
    {
        created = !File.Exists(path);
        return created ? KeyMaterial.CreateKeyFile(path) : KeyMaterial.FromKeyFile(path);
    }

    /// <summary>A new passphrase from <paramref name="variable"/>, or typed twice at the prompt.</summary>
    public static KeyMaterial Passphrase(KeyOptions keys, IReadOnlyDictionary<string, string?> environment, string variable)
    {
        if (environment.TryGetValue(variable, out var fromEnv) && !string.IsNullOrEmpty(fromEnv))
        {
            return KeyMaterial.FromPassphrase(new Secret(fromEnv), "$" + variable);
        }

        var prompt = keys.Prompt
            ?? throw new LifeboatException(ErrorCode.Usage, "no passphrase or key file was given for the new key", $"give «passphraseFile» F or «keyFile» F (created if missing), or set {variable}");
        var first = prompt("New passphrase: ");
        var second = prompt("Repeat the passphrase: ");
        if (first is null || second is null || first.Reveal() != second.Reveal())
        {
            throw new LifeboatException(ErrorCode.InvalidInput, "the passphrases differ or are empty", "run the command again");
        }

        return KeyMaterial.FromPassphrase(first, "the passphrase typed");
    }
}
