using System.Text.RegularExpressions;
using Cocoon.Web.Tests.Infrastructure;

namespace Cocoon.Web.Tests.Hosting;

/// <summary>
/// The portal's features depend on each other in one direction only: no two feature folders (nor a
/// longer loop of them) use each other, so a feature can be read and changed starting from its own
/// folder. Read from the sources: usings, qualified names and Razor injections.
/// </summary>
public sealed partial class FeatureDependencyTests
{
    [GeneratedRegex(@"Cocoon\.Web\.Features\.(\w+)")]
    private static partial Regex FeatureReference();

    [GeneratedRegex(@"^\s*(?:public|internal)\s+(?:(?:static|sealed|abstract|partial|readonly)\s+)*(?:class|record|interface|enum|struct)\s+(\w+)", RegexOptions.Multiline)]
    private static partial Regex TypeDeclaration();

    [Fact]
    public void No_features_use_each_other_in_a_circle()
    {
        var features = Path.Combine(Repo.Root, "Cocoon.Web", "Features");
        var files = Directory.GetDirectories(features).ToDictionary(
            d => Path.GetFileName(d),
            d => Directory.EnumerateFiles(d, "*.*", SearchOption.AllDirectories).Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".razor", StringComparison.Ordinal)).ToList(),
            StringComparer.Ordinal);

        // Razor pages see every feature _Imports.razor names, so for them a use is also a type (or
        // component) of another feature named in the markup.
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (feature, paths) in files)
        {
            foreach (var path in paths)
            {
                var names = path.EndsWith(".razor", StringComparison.Ordinal)
                    ? [Path.GetFileNameWithoutExtension(path)]
                    : TypeDeclaration().Matches(File.ReadAllText(path)).Select(m => m.Groups[1].Value);
                foreach (var name in names)
                {
                    owners.TryAdd(name, feature);
                }
            }
        }

        var uses = files.Keys.ToDictionary(f => f, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var (feature, paths) in files)
        {
            foreach (var path in paths)
            {
                var text = File.ReadAllText(path);
                uses[feature].UnionWith(FeatureReference().Matches(text).Select(m => m.Groups[1].Value).Where(f => f != feature && uses.ContainsKey(f)));

                // A name qualified by a sibling feature from inside Features (Blobs.StoredBlob), not a member access (db.Jobs).
                uses[feature].UnionWith(uses.Keys.Where(f => f != feature && Regex.IsMatch(text, $@"(?<![.\w]){f}\.[A-Z]")));
                if (path.EndsWith(".razor", StringComparison.Ordinal))
                {
                    uses[feature].UnionWith(owners.Where(o => o.Value != feature && Regex.IsMatch(text, $@"\b{o.Key}\b")).Select(o => o.Value));
                }
            }
        }

        Assert.True(uses.Count >= 8, $"found only {uses.Count} features under {features}");
        var cycles = new List<string>();
        foreach (var start in uses.Keys)
        {
            // A path from a feature back to itself through what it uses.
            var stack = new Stack<List<string>>([[start]]);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (stack.Count > 0)
            {
                var path = stack.Pop();
                foreach (var next in uses[path[^1]])
                {
                    if (next == start)
                    {
                        cycles.Add(string.Join(" → ", path.Append(start)));
                    }
                    else if (seen.Add(next))
                    {
                        stack.Push([.. path, next]);
                    }
                }
            }
        }

        Assert.True(cycles.Count == 0, "features that use each other in a circle: " + string.Join("; ", cycles.Distinct()));
    }
}
