using Lifeboat.Core;
using Lifeboat.Repository.Trees;

namespace Lifeboat.Engine.Files;

/// <summary>Walks the previous backup's tree alongside the new walk (both in <see cref="TreeOrder"/>).</summary>
internal sealed class ParentTree(IAsyncEnumerable<TreeEntry> entries) : IAsyncDisposable
{
    private readonly IAsyncEnumerator<TreeEntry> _enumerator = entries.GetAsyncEnumerator();
    private TreeEntry? _current;
    private bool _done;

    public async ValueTask<TreeEntry?> FindAsync(string path)
    {
        while (!_done)
        {
            if (_current is not null)
            {
                var c = TreeOrder.Instance.Compare(_current.Path, path);
                if (c == 0)
                {
                    return _current;
                }

                if (c > 0)
                {
                    return null;
                }
            }

            if (!await _enumerator.MoveNextAsync())
            {
                _done = true;
                _current = null;
                return null;
            }

            _current = _enumerator.Current;
        }

        return null;
    }

    public ValueTask DisposeAsync() => _enumerator.DisposeAsync();
}
