using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;

namespace Lifeboat.Server.Dashboard;

/// <summary>
/// A piece of HTML that is safe to send: made only by <see cref="Of"/>, whose interpolated string keeps its literal parts
/// as written and HTML-encodes every value put in a hole — unless the value is itself <see cref="Html"/>. So a source
/// name, a description or an event's data is always text, in an element or in a quoted attribute. There is no way to
/// turn an arbitrary string into <see cref="Html"/>: that is the point (docs/dashboard.md).
/// </summary>
public readonly struct Html
{
    /// <summary>Encodes &lt; &gt; &amp; " ' and control characters; leaves other Unicode as it is (readable pages).</summary>
    internal static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    private readonly string? _value;

    private Html(string value) => _value = value;

    public static Html Empty => default;

    /// <summary>Literal parts as written; every hole encoded (an <see cref="Html"/> or a sequence of them is kept).</summary>
    public static Html Of(ref Handler html) => new(html.ToStringAndClear());

    /// <summary>The pieces one after another.</summary>
    public static Html Join(IEnumerable<Html> pieces) => new(string.Concat(pieces.Select(p => p._value)));

    /// <summary>The HTML of the whole document, with its doctype.</summary>
    public override string ToString() => _value ?? "";

    [InterpolatedStringHandler]
    public ref struct Handler
    {
        private readonly StringBuilder _builder;

        public Handler(int literalLength, int formattedCount) => _builder = new StringBuilder(literalLength + (formattedCount * 16));

        /// <summary>Literal text of the template: markup written in the source code, never data.</summary>
        public readonly void AppendLiteral(string literal) => _builder.Append(literal);

        public readonly void AppendFormatted(Html html) => _builder.Append(html._value);

        public readonly void AppendFormatted(IEnumerable<Html> pieces)
        {
            foreach (var piece in pieces)
            {
                _builder.Append(piece._value);
            }
        }

        public readonly void AppendFormatted(string? value) => _builder.Append(Encoder.Encode(value ?? ""));

        /// <summary>Any other value: formatted with the invariant culture, then encoded.</summary>
        public readonly void AppendFormatted<T>(T value, string? format = null)
        {
            var text = value switch
            {
                null => "",
                Html h => h._value ?? "",
                IEnumerable<Html> pieces => string.Concat(pieces.Select(p => p._value)),
                IFormattable f => Encoder.Encode(f.ToString(format, CultureInfo.InvariantCulture)),
                _ => Encoder.Encode(value.ToString() ?? ""),
            };
            _builder.Append(text);
        }

        internal readonly string ToStringAndClear()
        {
            var s = _builder.ToString();
            _builder.Clear();
            return s;
        }
    }
}
