using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace TrigramLens.Testing;

/// <summary>
/// Finds, in a compiled assembly, every call that hands libtorch a TorchSharp <c>Scalar</c> made on the fly: an implicit
/// conversion (<c>Scalar.op_Implicit</c>) at our call site, or a call to a TorchSharp method that makes one itself (such
/// as <c>Tensor + Tensor</c>, which passes an implicit <c>alpha = 1</c>). Such a temporary is unreachable once its handle
/// is read, so the garbage collector may finalise it (freeing the native scalar) while libtorch still reads it: an
/// intermittent native crash. The TorchSharp methods that do so are found by reading TorchSharp's own IL (any method that
/// converts implicitly, or calls one that does), so the list follows the TorchSharp version in use.
/// </summary>
public static class ScalarLifetimeScan
{
    static readonly Lazy<HashSet<string>> UnsafeTorchSharpMethods = new(() => ConvertingMethods(typeof(TorchSharp.torch).Assembly.Location));

    /// <summary>Fails the test, listing every offending call, if <paramref name="assembly"/> has any.</summary>
    public static void AssertNone(System.Reflection.Assembly assembly)
    {
        var found = Find(assembly.Location);
        Xunit.Assert.True(found.Count == 0,
            $"{found.Count} call(s) in {assembly.GetName().Name} hand libtorch a temporary Scalar:\n" + string.Join("\n", found));
    }

    /// <returns>"Type.Method: what it calls" for every offending call, once per method and callee</returns>
    public static IReadOnlyList<string> Find(string assemblyPath)
    {
        var unsafeMethods = UnsafeTorchSharpMethods.Value;
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var found = new List<string>();
        foreach (var (caller, callees) in Calls(pe, md))
            foreach (var callee in callees.Distinct())
            {
                if (callee.Kind != HandleKind.MemberReference) continue;
                string key = Key(md, (MemberReferenceHandle)callee);
                if (key.StartsWith("TorchSharp.Scalar::op_Implicit(", StringComparison.Ordinal)) found.Add($"{caller}: an implicit Scalar conversion");
                else if (unsafeMethods.Contains(key)) found.Add($"{caller}: {key}, which passes libtorch a temporary Scalar");
            }
        return found;
    }

    /// <summary>TorchSharp's methods that convert to a Scalar implicitly, directly or through another such method.</summary>
    static HashSet<string> ConvertingMethods(string torchSharpPath)
    {
        using var stream = File.OpenRead(torchSharpPath);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var keys = new Dictionary<MethodDefinitionHandle, string>();
        var calls = new Dictionary<MethodDefinitionHandle, List<MethodDefinitionHandle>>();
        foreach (var typeHandle in md.TypeDefinitions)
            foreach (var methodHandle in md.GetTypeDefinition(typeHandle).GetMethods())
            {
                keys[methodHandle] = Key(md, methodHandle);
                var method = md.GetMethodDefinition(methodHandle);
                calls[methodHandle] = method.RelativeVirtualAddress == 0 ? [] :
                    CallTokens(pe.GetMethodBody(method.RelativeVirtualAddress).GetILReader())
                        .Select(t => MetadataTokens.EntityHandle(t)).Where(h => h.Kind == HandleKind.MethodDefinition)
                        .Select(h => (MethodDefinitionHandle)h).ToList();
            }
        var converting = calls.Keys.Where(m => calls[m].Any(c => keys[c].StartsWith("TorchSharp.Scalar::op_Implicit(", StringComparison.Ordinal))).ToHashSet();
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var (method, callees) in calls)
                if (!converting.Contains(method) && callees.Any(converting.Contains)) grew = converting.Add(method);
        }
        return converting.Select(m => keys[m]).ToHashSet();
    }

    static IEnumerable<(string caller, List<EntityHandle> callees)> Calls(PEReader pe, MetadataReader md)
    {
        foreach (var typeHandle in md.TypeDefinitions)
        {
            var type = md.GetTypeDefinition(typeHandle);
            foreach (var methodHandle in type.GetMethods())
            {
                var method = md.GetMethodDefinition(methodHandle);
                if (method.RelativeVirtualAddress == 0) continue;
                var tokens = CallTokens(pe.GetMethodBody(method.RelativeVirtualAddress).GetILReader());
                yield return ($"{TypeName(md, typeHandle)}.{md.GetString(method.Name)}", tokens.Select(t => MetadataTokens.EntityHandle(t)).ToList());
            }
        }
    }

    /// <summary>"Namespace.Type/Nested::Name(parameter types)", the same for a definition and a reference to it.</summary>
    static string Key(MetadataReader md, MethodDefinitionHandle handle)
    {
        var method = md.GetMethodDefinition(handle);
        var signature = method.DecodeSignature(new TypeNames(md), null);
        return $"{TypeName(md, method.GetDeclaringType())}::{md.GetString(method.Name)}({string.Join(", ", signature.ParameterTypes)})";
    }

    static string Key(MetadataReader md, MemberReferenceHandle handle)
    {
        var member = md.GetMemberReference(handle);
        if (member.GetKind() != MemberReferenceKind.Method) return "";
        var signature = member.DecodeMethodSignature(new TypeNames(md), null);
        string parent = member.Parent.Kind switch
        {
            HandleKind.TypeReference => TypeName(md, (TypeReferenceHandle)member.Parent),
            HandleKind.TypeDefinition => TypeName(md, (TypeDefinitionHandle)member.Parent),
            _ => "",
        };
        return $"{parent}::{md.GetString(member.Name)}({string.Join(", ", signature.ParameterTypes)})";
    }

    static string TypeName(MetadataReader md, TypeReferenceHandle handle)
    {
        var type = md.GetTypeReference(handle);
        string name = md.GetString(type.Name);
        return type.ResolutionScope.Kind == HandleKind.TypeReference
            ? TypeName(md, (TypeReferenceHandle)type.ResolutionScope) + "/" + name
            : md.GetString(type.Namespace) + "." + name;
    }

    static string TypeName(MetadataReader md, TypeDefinitionHandle handle)
    {
        var type = md.GetTypeDefinition(handle);
        string name = md.GetString(type.Name);
        var declaring = type.GetDeclaringType();
        return declaring.IsNil ? md.GetString(type.Namespace) + "." + name : TypeName(md, declaring) + "/" + name;
    }

    /// <summary>The metadata tokens of every call, callvirt and newobj in a method body.</summary>
    static List<int> CallTokens(BlobReader il)
    {
        var tokens = new List<int>();
        while (il.RemainingBytes > 0)
        {
            int code = il.ReadByte();
            if (code == 0xFE) code = 0xFE00 | il.ReadByte();
            var op = (ILOpCode)code;
            if (op is ILOpCode.Call or ILOpCode.Callvirt or ILOpCode.Newobj)
                tokens.Add(il.ReadInt32());
            else if (op == ILOpCode.Switch)
                il.Offset += 4 * il.ReadInt32();
            else
                il.Offset += OperandSize(op);
        }
        return tokens;
    }

    static int OperandSize(ILOpCode op) => op switch
    {
        ILOpCode.Ldarg_s or ILOpCode.Ldarga_s or ILOpCode.Starg_s or ILOpCode.Ldloc_s or ILOpCode.Ldloca_s or ILOpCode.Stloc_s
            or ILOpCode.Ldc_i4_s or ILOpCode.Unaligned
            or ILOpCode.Br_s or ILOpCode.Brfalse_s or ILOpCode.Brtrue_s or ILOpCode.Beq_s or ILOpCode.Bge_s or ILOpCode.Bgt_s
            or ILOpCode.Ble_s or ILOpCode.Blt_s or ILOpCode.Bne_un_s or ILOpCode.Bge_un_s or ILOpCode.Bgt_un_s or ILOpCode.Ble_un_s
            or ILOpCode.Blt_un_s or ILOpCode.Leave_s => 1,
        ILOpCode.Ldarg or ILOpCode.Ldarga or ILOpCode.Starg or ILOpCode.Ldloc or ILOpCode.Ldloca or ILOpCode.Stloc => 2,
        ILOpCode.Ldc_i8 or ILOpCode.Ldc_r8 => 8,
        ILOpCode.Ldc_i4 or ILOpCode.Ldc_r4 or ILOpCode.Br or ILOpCode.Brfalse or ILOpCode.Brtrue or ILOpCode.Beq or ILOpCode.Bge
            or ILOpCode.Bgt or ILOpCode.Ble or ILOpCode.Blt or ILOpCode.Bne_un or ILOpCode.Bge_un or ILOpCode.Bgt_un or ILOpCode.Ble_un
            or ILOpCode.Blt_un or ILOpCode.Leave or ILOpCode.Jmp or ILOpCode.Calli or ILOpCode.Ldftn or ILOpCode.Ldvirtftn
            or ILOpCode.Ldstr or ILOpCode.Ldfld or ILOpCode.Ldflda or ILOpCode.Stfld or ILOpCode.Ldsfld or ILOpCode.Ldsflda
            or ILOpCode.Stsfld or ILOpCode.Ldtoken or ILOpCode.Box or ILOpCode.Unbox or ILOpCode.Unbox_any or ILOpCode.Castclass
            or ILOpCode.Isinst or ILOpCode.Newarr or ILOpCode.Ldelema or ILOpCode.Ldelem or ILOpCode.Stelem or ILOpCode.Ldobj
            or ILOpCode.Stobj or ILOpCode.Cpobj or ILOpCode.Initobj or ILOpCode.Sizeof or ILOpCode.Mkrefany or ILOpCode.Refanyval
            or ILOpCode.Constrained => 4,
        _ => 0,
    };

    /// <summary>Type names as strings, the same whether read from a definition or a reference.</summary>
    sealed class TypeNames(MetadataReader md) : ISignatureTypeProvider<string, object?>
    {
        public string GetPrimitiveType(PrimitiveTypeCode code) => code.ToString();
        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => TypeName(md, handle);
        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => TypeName(md, handle);
        public string GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind) => "spec";
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[,]";
        public string GetByReferenceType(string elementType) => elementType + "&";
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetPinnedType(string elementType) => elementType;
        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) =>
            $"{genericType}<{string.Join(", ", typeArguments)}>";
        public string GetGenericMethodParameter(object? context, int index) => "!!" + index;
        public string GetGenericTypeParameter(object? context, int index) => "!" + index;
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
    }
}
