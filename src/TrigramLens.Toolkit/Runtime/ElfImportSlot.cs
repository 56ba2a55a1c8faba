using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;

namespace TrigramLens.Runtime;

/// <summary>
/// Where a loaded ELF shared library (x86-64 Linux) keeps the address it calls for a function it exports and calls
/// through its own PLT: the function's <c>R_X86_64_JUMP_SLOT</c> entry in <c>.got.plt</c>. Writing another address
/// there redirects the library's own calls, as <c>LD_PRELOAD</c> would, without restarting the process.
/// </summary>
internal static class ElfImportSlot
{
    const uint ShtDynsym = 11, ShtGnuHash = 0x6ffffff6, RX8664JumpSlot = 7;

    /// <summary>
    /// The slot's address in this process, or null with the reason: the library is not loaded, is not what this reader
    /// understands, does not call <paramref name="symbol"/> through its PLT, or keeps the slot read-only.
    /// </summary>
    /// <param name="library">the loaded file's name, e.g. <c>libtorch_cpu.so</c></param>
    /// <param name="symbol">the function's name; it must also be exported by the library (its address checks the base)</param>
    public static (nint? slot, string? reason) Find(string library, string symbol)
    {
        var (found, reason) = Locate(library, symbol);
        return (found?.Slot, reason);
    }

    /// <summary>
    /// Points the library's calls of <paramref name="symbol"/> at <paramref name="replacement"/>. Returns null when done,
    /// else the reason it was not; <paramref name="wasCalled"/> says whether the slot already held the function, i.e. the
    /// library had called it before (or the process binds eagerly, <c>LD_BIND_NOW</c>).
    /// </summary>
    public static string? Redirect(string library, string symbol, nint replacement, out bool wasCalled)
    {
        wasCalled = false;
        var (found, reason) = Locate(library, symbol);
        if (found is null) return reason;
        // The slot holds the function once called, or the library's own PLT stub before: anything else means this
        // reader has the wrong place, and writing there could break the process.
        ulong target = (ulong)Marshal.ReadIntPtr(found.Slot);
        wasCalled = target == (ulong)found.Exported;
        if (!wasCalled && !found.Mappings.Any(m => m.Executable && m.Start <= target && target < m.End))
            return $"{library}'s slot for {symbol} holds an unexpected address";
        Marshal.WriteIntPtr(found.Slot, replacement);
        return null;
    }

    sealed record Located(nint Slot, nint Exported, List<Mapping> Mappings);

    static (Located? found, string? reason) Locate(string library, string symbol)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return (null, "not x86-64 Linux");
        // Checked first, since dlopen by name would load a library that is not loaded yet.
        var files = FileMappings();
        if (!files.Any(m => Path.GetFileName(m.Path) == library) || !NativeLibrary.TryLoad(library, out var handle))
            return (null, $"{library} is not loaded");
        if (!NativeLibrary.TryGetExport(handle, symbol, out var exported)) return (null, $"{library} does not export {symbol}");
        // The copy the loader resolves the name to: the file mapped where the exported function lies.
        var containing = files.FirstOrDefault(m => m.Start <= (ulong)exported && (ulong)exported < m.End);
        if (containing is null) return (null, $"{symbol} does not lie in a mapped file");
        var mappings = files.Where(m => m.Path == containing.Path).ToList();
        var image = mappings.FirstOrDefault(m => m.Offset == 0);
        if (image is null) return (null, $"{containing.Path} has no mapping of its start");

        using var file = MemoryMappedFile.CreateFromFile(image.Path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var elf = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        if (elf.ReadUInt32(0) != 0x464c457f || elf.ReadByte(4) != 2 || elf.ReadByte(5) != 1 || elf.ReadUInt16(0x12) != 62)
            return (null, $"{image.Path} is not a little-endian x86-64 ELF64 file");

        var sections = Sections(elf);
        var dynsym = sections.FirstOrDefault(s => s.Type == ShtDynsym);
        var gnuHash = sections.FirstOrDefault(s => s.Type == ShtGnuHash);
        var relaPlt = sections.FirstOrDefault(s => s.Name == ".rela.plt");
        if (dynsym is null || gnuHash is null || relaPlt is null) return (null, $"{library} has no .dynsym, .gnu.hash or .rela.plt");
        var dynstr = sections[(int)dynsym.Link];

        if (LookUp(elf, gnuHash, dynsym, dynstr, symbol) is not uint index) return (null, $"{symbol} is not in {library}'s .dynsym");
        // A shared library's addresses are relative to where it was loaded; the export pins that base down.
        ulong value = elf.ReadUInt64(dynsym.Offset + index * 24L + 8);
        if ((ulong)exported - value != image.Start) return (null, $"{library}'s load address does not match its first mapping");

        for (long at = relaPlt.Offset; at < relaPlt.Offset + relaPlt.Size; at += 24)
        {
            ulong info = elf.ReadUInt64(at + 8);
            if (info >> 32 != index || (info & 0xffffffff) != RX8664JumpSlot) continue;
            ulong slot = image.Start + elf.ReadUInt64(at);
            return mappings.Any(m => m.Writable && m.Start <= slot && slot + 8 <= m.End)
                ? (new Located((nint)slot, exported, mappings), null)
                : (null, $"{library}'s slot for {symbol} is read-only (full RELRO)");
        }
        return (null, $"{library} does not call {symbol} through its PLT");
    }

    sealed record Section(string Name, uint Type, long Offset, long Size, uint Link);

    static Section[] Sections(MemoryMappedViewAccessor elf)
    {
        long table = (long)elf.ReadUInt64(0x28);
        int size = elf.ReadUInt16(0x3a), count = elf.ReadUInt16(0x3c), names = elf.ReadUInt16(0x3e);
        long Field64(int i, int field) => (long)elf.ReadUInt64(table + (long)i * size + field);
        long namesOffset = Field64(names, 24);
        return Enumerable.Range(0, count).Select(i => new Section(
            CString(elf, namesOffset + elf.ReadUInt32(table + (long)i * size)),
            elf.ReadUInt32(table + (long)i * size + 4),
            Field64(i, 24), Field64(i, 32),
            elf.ReadUInt32(table + (long)i * size + 40))).ToArray();
    }

    /// <summary>The symbol's index in .dynsym through the GNU hash table (what the dynamic loader does).</summary>
    static uint? LookUp(MemoryMappedViewAccessor elf, Section gnuHash, Section dynsym, Section dynstr, string symbol)
    {
        uint hash = 5381;
        foreach (byte c in Encoding.ASCII.GetBytes(symbol)) hash = hash * 33 + c;
        long at = gnuHash.Offset;
        uint buckets = elf.ReadUInt32(at), first = elf.ReadUInt32(at + 4), bloomWords = elf.ReadUInt32(at + 8);
        long bucketTable = at + 16 + 8L * bloomWords, chains = bucketTable + 4L * buckets;
        uint index = elf.ReadUInt32(bucketTable + 4L * (hash % buckets));
        if (index < first) return null;
        for (; ; index++)
        {
            uint chained = elf.ReadUInt32(chains + 4L * (index - first));
            if ((chained | 1) == (hash | 1) && CString(elf, dynstr.Offset + elf.ReadUInt32(dynsym.Offset + index * 24L)) == symbol)
                return index;
            if ((chained & 1) != 0) return null;   // the chain's last entry
        }
    }

    static string CString(MemoryMappedViewAccessor elf, long at)
    {
        var bytes = new List<byte>();
        for (byte b; (b = elf.ReadByte(at)) != 0; at++) bytes.Add(b);
        return Encoding.ASCII.GetString(bytes.ToArray());
    }

    sealed record Mapping(ulong Start, ulong End, bool Writable, bool Executable, ulong Offset, string Path);

    /// <summary>This process's mappings of files, from <c>/proc/self/maps</c>.</summary>
    static List<Mapping> FileMappings()
    {
        var found = new List<Mapping>();
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            // start-end perms offset dev inode path (the path may contain spaces; anonymous mappings have none)
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6 || fields[5].Trim() is not ['/', ..] path) continue;
            var range = fields[0].Split('-');
            found.Add(new Mapping(Hex(range[0]), Hex(range[1]), fields[1][1] == 'w', fields[1][2] == 'x', Hex(fields[2]), path));
        }
        return found;
    }

    static ulong Hex(string digits) => ulong.Parse(digits, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
