using System.Text;
using System.Text.Json;
using Platform.Api.Input;
using Platform.Models.Text;

namespace Platform.UnitTests.Input;

/// <summary>Checks the edge's JSON scan against a slow reference on thousands of random documents full of escapes, pairs, lone surrogates and NULs.</summary>
public sealed class JsonTextScanTests
{
    private static readonly string[] Pieces =
        ["a", "é", "\\u00e9", "\\n", "\\\"", "\\\\u0000", "\\u0000", "\\ud83d\\ude00", "😀", "\\ud800", "\\udc00", "\\ud800\\u0041", "\\udbff\\udfff", "\\u0041", "x\\/y"];

    [Test]
    public void The_scan_finds_unstorable_text_exactly_where_a_full_decode_does()
    {
        var random = new Random(20261205);
        for (var i = 0; i < 5_000; i++)
        {
            var json = Document(random, 0);
            var bytes = Encoding.UTF8.GetBytes(json);
            var expected = Reference(bytes);
            var found = JsonTextScan.FindUnstorable(bytes, 20);
            Assert.That(found?.Keys.ToHashSet() ?? [], Is.EquivalentTo(expected), json);
        }
    }

    [TestCase("""{"a":[1,{"b":"\u0000"}]}""", "a[1].b")]
    [TestCase("""[{"x":1},{"y":"\ud800"}]""", "[1].y")]
    [TestCase("""{"a":{"b\u0000":{"c":1}}}""", "a")]
    [TestCase("""{"a\u0000":"\u0000"}""", "body")]
    [TestCase("""{"a.b":{"c":"\udfff"}}""", "a.b.c")]
    public void Fields_are_named_as_System_Text_Json_names_them_without_the_dollar(string json, string field)
    {
        var found = JsonTextScan.FindUnstorable(Encoding.UTF8.GetBytes(json), 20);
        Assert.That(found?.Keys, Does.Contain(field));
    }

    [Test]
    public void Malformed_or_too_deep_JSON_is_left_to_the_binder()
    {
        Assert.Multiple(() =>
        {
            Assert.That(JsonTextScan.FindUnstorable("""{"a":"""u8, 20), Is.Null);
            Assert.That(JsonTextScan.FindUnstorable(Encoding.UTF8.GetBytes(new string('[', 1_000) + new string(']', 1_000)), 20), Is.Null);
        });
    }

    private static string Document(Random random, int depth)
    {
        switch (depth > 3 ? 0 : random.Next(4))
        {
            case 0:
                return Text(random);
            case 1:
                return "[" + string.Join(",", Enumerable.Range(0, random.Next(4)).Select(_ => Document(random, depth + 1))) + "]";
            case 2:
                return random.Next(3).ToString(System.Globalization.CultureInfo.InvariantCulture);
            default:
                return "{" + string.Join(",", Enumerable.Range(0, random.Next(4)).Select(i => $"{Text(random)[..^1]}{i}\":{Document(random, depth + 1)}")) + "}";
        }
    }

    private static string Text(Random random) =>
        "\"" + string.Concat(Enumerable.Range(0, random.Next(4)).Select(_ => random.Next(4) == 0 ? Pieces[random.Next(Pieces.Length)] : "k")) + "\"";

    /// <summary>Decodes every string and name with JsonDocument and names the unstorable ones the slow way.</summary>
    private static HashSet<string> Reference(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var found = new HashSet<string>(StringComparer.Ordinal);
        Walk(document.RootElement, "", found);
        return found;
    }

    private static void Walk(JsonElement element, string path, HashSet<string> found)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                if (!Storable(() => element.GetString()!))
                {
                    found.Add(path.Length == 0 ? "body" : path);
                }
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, $"{path}[{index++}]", found);
                }
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (!Storable(() => property.Name))
                    {
                        found.Add(path.Length == 0 ? "body" : path);
                        Walk(property.Value, path, found);
                        continue;
                    }
                    Walk(property.Value, path.Length == 0 ? property.Name : path + "." + property.Name, found);
                }
                break;
        }
    }

    private static bool Storable(Func<string> read)
    {
        try
        {
            return StorableText.IsStorable(read());
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
