// Harness tools for tests/unity/run.sh (run with mono):
//   coverage MIN_PERCENT PACKAGE_DIR BUILD_DIR COVERAGE_XML... : lines of unity_package/Runtime and Editor
//       EXECUTED by the tests (mono's coverage profiler output) over all their lines (the debug symbols'
//       sequence points), per file and in total; exit 1 below MIN_PERCENT.
//   api EXTRACT DLL... : every public type and member of the stand-in DLLs must appear in EXTRACT (facts
//       taken from Unity's C# reference source); exit 1 listing what does not (drift or invented API).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Xml;
using Mono.Cecil;
using Mono.CompilerServices.SymbolWriter;

internal static class UnityTools
{
    private static int Main(string[] args)
    {
        if (args.Length >= 4 && args[0] == "coverage")
        {
            return Coverage(double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture), Path.GetFullPath(args[2]), args[3], args.Skip(4).ToArray());
        }
        if (args.Length >= 3 && args[0] == "api")
        {
            return Api(args[1], args.Skip(2).ToArray());
        }
        Console.Error.WriteLine("usage: coverage MIN PACKAGE_DIR BUILD_DIR XML... | api EXTRACT DLL...");
        return 2;
    }

    // ---- coverage -------------------------------------------------------------------------------

    private static int Coverage(double minimum, string package, string build, string[] reports)
    {
        var all = new Dictionary<string, HashSet<int>>();
        foreach (string assembly in new[] { "Atelico.Audio", "Atelico.Audio.Editor" })
        {
            MonoSymbolFile symbols = MonoSymbolFile.ReadSymbolFile(Path.Combine(build, assembly + ".dll.mdb"));
            foreach (MethodEntry method in symbols.Methods)
            {
                foreach (LineNumberEntry line in method.GetLineNumberTable().LineNumbers)
                {
                    if (line.IsHidden || line.Row <= 0 || line.Row >= 0xfeefee)
                    {
                        continue;
                    }
                    string file = symbols.GetSourceFile(line.File).FileName;
                    Add(all, file, line.Row);
                }
            }
        }
        var executed = new Dictionary<string, HashSet<int>>();
        foreach (string report in reports)
        {
            if (!File.Exists(report) || new FileInfo(report).Length == 0)
            {
                Console.WriteLine("coverage: no data in " + report);
                return 1;
            }
            var reader = XmlReader.Create(report);
            string file = null;
            while (reader.Read())
            {
                if (reader.NodeType != XmlNodeType.Element)
                {
                    continue;
                }
                if (reader.Name == "method")
                {
                    file = reader.GetAttribute("filename");
                }
                else if (reader.Name == "statement" && file != null && reader.GetAttribute("counter") != "0")
                {
                    Add(executed, file, int.Parse(reader.GetAttribute("line")));
                }
            }
        }
        int total = 0;
        int hit = 0;
        Console.WriteLine("coverage: lines executed by the tests / executable lines (unity_package Runtime + Editor)");
        foreach (var pair in all.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            string full = Path.GetFullPath(pair.Key);
            string relative = full.StartsWith(package + "/") ? full.Substring(package.Length + 1) : null;
            if (relative == null || !(relative.StartsWith("Runtime/") || relative.StartsWith("Editor/")))
            {
                continue;
            }
            HashSet<int> ran;
            int fileHit = executed.TryGetValue(pair.Key, out ran) ? pair.Value.Count(ran.Contains) : 0;
            total += pair.Value.Count;
            hit += fileHit;
            Console.WriteLine(string.Format("  {0,5}/{1,-5} {2,6:0.0}%  unity_package/{3}", fileHit, pair.Value.Count, 100.0 * fileHit / pair.Value.Count, relative));
            if (Environment.GetEnvironmentVariable("ATELICO_COVERAGE_MISSED") == "1")
            {
                // The lines no test executed, for whoever writes the next test.
                var missed = pair.Value.Where(l => ran == null || !ran.Contains(l)).OrderBy(l => l);
                Console.WriteLine("         missed: " + string.Join(" ", missed));
            }
        }
        double percent = total == 0 ? 0 : 100.0 * hit / total;
        Console.WriteLine(string.Format("coverage total: {0}/{1} lines = {2:0.0}% (minimum {3:0.0}%)", hit, total, percent, minimum));
        if (total == 0 || percent < minimum)
        {
            Console.WriteLine("COVERAGE BELOW MINIMUM");
            return 1;
        }
        return 0;
    }

    private static void Add(Dictionary<string, HashSet<int>> map, string file, int line)
    {
        HashSet<int> lines;
        if (!map.TryGetValue(file, out lines))
        {
            lines = new HashSet<int>();
            map[file] = lines;
        }
        lines.Add(line);
    }

    // ---- api ------------------------------------------------------------------------------------

    private static int Api(string extractPath, string[] dlls)
    {
        var extract = new HashSet<string>();
        foreach (string raw in File.ReadAllLines(extractPath))
        {
            string line = raw.Trim();
            if (line.Length > 0 && !line.StartsWith("#"))
            {
                extract.Add(line);
            }
        }
        var missing = new List<string>();
        int checkedCount = 0;
        foreach (string dll in dlls)
        {
            foreach (string line in Surface(dll))
            {
                checkedCount++;
                if (!extract.Contains(line))
                {
                    missing.Add(line);
                }
            }
        }
        Console.WriteLine("api: " + checkedCount + " public stand-in members checked against " + extractPath);
        foreach (string line in missing)
        {
            Console.WriteLine("NOT IN UNITY'S API: " + line);
        }
        return missing.Count == 0 && checkedCount > 0 ? 0 : 1;
    }

    /// <summary>One canonical line per public type and member (see the header of the extract).</summary>
    internal static IEnumerable<string> Surface(string dll)
    {
        var module = ModuleDefinition.ReadModule(dll);
        foreach (TypeDefinition type in module.GetTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            if (!IsVisible(type))
            {
                continue;
            }
            string name = Name(type);
            yield return Kind(type) + " " + name + Obsolete(type);
            if (type.IsEnum)
            {
                foreach (FieldDefinition field in type.Fields.Where(f => f.IsPublic && f.IsStatic))
                {
                    yield return "value " + name + "." + field.Name;
                }
                continue;
            }
            if (IsDelegate(type))
            {
                MethodDefinition invoke = type.Methods.First(m => m.Name == "Invoke");
                yield return "signature " + name + " " + Name(invoke.ReturnType) + Parameters(invoke);
                continue;
            }
            foreach (FieldDefinition field in type.Fields.Where(f => f.IsPublic).OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                yield return "field " + name + "." + field.Name + " : " + Name(field.FieldType) + (field.IsStatic ? " static" : "") + (field.IsInitOnly ? " readonly" : "") + Obsolete(field);
            }
            foreach (PropertyDefinition property in type.Properties.OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                bool get = property.GetMethod != null && property.GetMethod.IsPublic;
                bool set = property.SetMethod != null && property.SetMethod.IsPublic;
                if (!get && !set)
                {
                    continue;
                }
                MethodDefinition accessor = get ? property.GetMethod : property.SetMethod;
                yield return "property " + name + "." + property.Name + " : " + Name(property.PropertyType) + (accessor.IsStatic ? " static" : "") + " {" + (get ? " get;" : "") + (set ? " set;" : "") + " }" + Obsolete(property);
            }
            foreach (EventDefinition evt in type.Events.Where(e => e.AddMethod.IsPublic).OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                yield return "event " + name + "." + evt.Name + " : " + Name(evt.EventType) + (evt.AddMethod.IsStatic ? " static" : "");
            }
            foreach (MethodDefinition method in type.Methods.Where(m => (m.IsPublic || m.IsFamily) && !m.IsGetter && !m.IsSetter && !m.IsAddOn && !m.IsRemoveOn)
                .Select(m => m).OrderBy(m => m.Name, StringComparer.Ordinal).ThenBy(m => Parameters(m), StringComparer.Ordinal))
            {
                if (method.IsConstructor && method.IsStatic)
                {
                    continue;
                }
                if (method.IsConstructor)
                {
                    if (method.Parameters.Count == 0 && (type.IsAbstract || type.IsValueType))
                    {
                        continue; // implicit
                    }
                    yield return "ctor " + name + Parameters(method) + Obsolete(method);
                    continue;
                }
                if (method.IsVirtual && !method.IsNewSlot && method.DeclaringType.BaseType != null && IsObjectOverride(method))
                {
                    continue; // Equals/GetHashCode/ToString overrides
                }
                string generic = method.HasGenericParameters ? "<" + string.Join(",", method.GenericParameters.Select(g => g.Name)) + ">" : "";
                yield return "method " + name + "." + method.Name + generic + Parameters(method) + " : " + Name(method.ReturnType) + (method.IsStatic ? " static" : "") + (method.IsFamily ? " protected" : "") + (method.IsVirtual && !method.IsFinal ? " virtual" : "") + Obsolete(method);
            }
        }
    }

    private static bool IsObjectOverride(MethodDefinition method)
    {
        return (method.Name == "Equals" && method.Parameters.Count == 1) || (method.Name == "GetHashCode" && method.Parameters.Count == 0) || (method.Name == "ToString" && method.Parameters.Count == 0);
    }

    private static bool IsVisible(TypeDefinition type)
    {
        for (TypeDefinition t = type; t != null; t = t.DeclaringType)
        {
            if (!(t.IsPublic || t.IsNestedPublic))
            {
                return false;
            }
        }
        return !type.Name.StartsWith("<");
    }

    private static bool IsDelegate(TypeDefinition type)
    {
        return type.BaseType != null && type.BaseType.FullName == "System.MulticastDelegate";
    }

    private static string Kind(TypeDefinition type)
    {
        if (type.IsEnum)
        {
            return "enum";
        }
        if (type.IsValueType)
        {
            return "struct";
        }
        if (type.IsInterface)
        {
            return "interface";
        }
        if (IsDelegate(type))
        {
            return "delegate";
        }
        return "class";
    }

    private static string Obsolete(ICustomAttributeProvider provider)
    {
        foreach (CustomAttribute attribute in provider.CustomAttributes)
        {
            if (attribute.AttributeType.FullName == "System.ObsoleteAttribute")
            {
                bool error = attribute.ConstructorArguments.Count > 1 && (bool)attribute.ConstructorArguments[1].Value;
                return error ? " [Obsolete(error)]" : " [Obsolete]";
            }
        }
        return "";
    }

    private static string Parameters(MethodDefinition method)
    {
        return "(" + string.Join(", ", method.Parameters.Select(p => (p.CustomAttributes.Any(a => a.AttributeType.Name == "ParamArrayAttribute") ? "params " : "") + Name(p.ParameterType))) + ")";
    }

    private static string Name(TypeReference type)
    {
        var generic = type as GenericInstanceType;
        if (generic != null)
        {
            string root = generic.ElementType.FullName.Replace('/', '.');
            root = root.IndexOf('`') >= 0 ? root.Substring(0, root.IndexOf('`')) : root;
            return root + "<" + string.Join(",", generic.GenericArguments.Select(Name)) + ">";
        }
        if (type is ArrayType)
        {
            return Name(((ArrayType)type).ElementType) + "[]";
        }
        if (type is ByReferenceType)
        {
            return "ref " + Name(((ByReferenceType)type).ElementType);
        }
        if (type.IsGenericParameter)
        {
            return type.Name;
        }
        string name = type.FullName.Replace('/', '.');
        if (type.HasGenericParameters && name.IndexOf('`') >= 0)
        {
            name = name.Substring(0, name.IndexOf('`')) + "<" + string.Join(",", type.GenericParameters.Select(g => g.Name)) + ">";
        }
        return name;
    }
}
