using Lifeboat.Server.Dashboard;

namespace Lifeboat.Cli.Tests.Server.Dashboard;

/// <summary>The dashboard's HTML layer: a value in a hole is text, wherever it is put (docs/dashboard.md).</summary>
public sealed class HtmlTests
{
    [Fact]
    public void Every_value_in_a_hole_is_encoded_and_only_html_made_by_the_layer_is_kept_as_markup()
    {
        const string evil = "<script>alert('x')</script>\"&";
        var inner = Html.Of($"<b>{evil}</b>");
        var page = Html.Of($"""<p title="{evil}">{evil}{inner}{new[] { inner, inner }}{42}</p>""");
        Assert.Equal(
            "<p title=\"&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot;&amp;\">&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot;&amp;"
            + "<b>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot;&amp;</b>"
            + "<b>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot;&amp;</b><b>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot;&amp;</b>42</p>",
            page.ToString());
        Assert.Equal("é ü 日本", Html.Of($"{"é ü 日本"}").ToString());
        Assert.Equal("", Html.Of($"{(string?)null}{Html.Empty}").ToString());
    }
}
