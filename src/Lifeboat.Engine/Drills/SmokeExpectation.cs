using System.Globalization;

namespace Lifeboat.Engine.Drills;

/// <summary>
/// The expected result of a smoke query: an operator and a value (<c>&gt;= 1</c>, <c>= 42</c>, <c>!= 0</c>,
/// <c>= 'open'</c>, <c>= true</c>, <c>= null</c>). Numbers compare as numbers, booleans as booleans, anything else
/// as text (= and != only).
/// </summary>
public sealed record SmokeExpectation(string Operator, string? Value)
{
    private static readonly string[] Operators = [">=", "<=", "!=", "<>", "==", "=", ">", "<"];

    public static bool TryParse(string? text, out SmokeExpectation expectation, out string error)
    {
        expectation = new SmokeExpectation("=", null);
        var s = text?.Trim() ?? "";
        var op = Operators.FirstOrDefault(o => s.StartsWith(o, StringComparison.Ordinal));
        if (op is null)
        {
            error = s.Length == 0 ? "the expectation is missing" : $"the expectation '{s}' does not start with an operator";
            return false;
        }

        var value = s[op.Length..].Trim();
        if (value.Length == 0)
        {
            error = $"the expectation '{s}' has no value";
            return false;
        }

        op = op switch { "==" => "=", "<>" => "!=", _ => op };
        string? parsed;
        if (value.Length >= 2 && value[0] == '\'' && value[^1] == '\'')
        {
            parsed = value[1..^1].Replace("''", "'", StringComparison.Ordinal);
        }
        else
        {
            parsed = value.Equals("null", StringComparison.OrdinalIgnoreCase) ? null : value;
        }

        if (op is not ("=" or "!=") && !IsNumber(parsed))
        {
            error = $"the expectation '{s}' compares with {op}, which needs a number";
            return false;
        }

        expectation = new SmokeExpectation(op, parsed);
        error = "";
        return true;
    }

    /// <summary>Whether a query result (its first column of the first row; null for SQL NULL or no row) meets the expectation.</summary>
    public bool IsMetBy(object? result)
    {
        var actual = Format(result);
        if (Value is null || actual is null)
        {
            var bothNull = Value is null && actual is null;
            return Operator == "=" ? bothNull : Operator == "!=" && !bothNull;
        }

        if (IsNumber(Value) && IsNumber(actual))
        {
            var c = decimal.Parse(actual, NumberStyles.Float, CultureInfo.InvariantCulture).CompareTo(decimal.Parse(Value, NumberStyles.Float, CultureInfo.InvariantCulture));
            return Operator switch
            {
                "=" => c == 0,
                "!=" => c != 0,
                ">" => c > 0,
                ">=" => c >= 0,
                "<" => c < 0,
                "<=" => c <= 0,
                _ => false,
            };
        }

        if (Operator is not ("=" or "!="))
        {
            return false;
        }

        var equal = bool.TryParse(Value, out var expectedBool) && bool.TryParse(actual, out var actualBool)
            ? expectedBool == actualBool
            : string.Equals(actual, Value, StringComparison.Ordinal);
        return Operator == "=" ? equal : !equal;
    }

    /// <summary>A query result as text, the way the report shows it.</summary>
    public static string? Format(object? result) => result switch
    {
        null or DBNull => null,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => result.ToString(),
    };

    public override string ToString() => $"{Operator} {(Value is null ? "null" : IsNumber(Value) || bool.TryParse(Value, out _) ? Value : "'" + Value + "'")}";

    private static bool IsNumber(string? s) => s is not null && decimal.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
}
