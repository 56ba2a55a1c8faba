// Compiled by MSBuild's RoslynCodeTaskFactory (see LibTorchSharpGlibcxx.targets) against netstandard2.0.
//
// TorchSharp-cpu's libLibTorchSharp.so is linked against GCC 13's libstdc++ and declares a need for
// GLIBCXX_3.4.32, which Debian 12 (GCC 12) lacks. The need comes from one symbol the library never
// binds, so marking that version requirement weak (VER_FLG_WEAK) lets glibc load the library.
using System;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class WeakenElfVersionNeed : Task
{
    const uint SHT_GNU_verneed = 0x6ffffffe;
    const ushort VER_FLG_WEAK = 0x2;

    static readonly string[] LibStdCxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6",
        "/lib64/libstdc++.so.6",
        "/usr/lib/libstdc++.so.6",
    };

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The version requirement to weaken, e.g. GLIBCXX_3.4.32.</summary>
    [Required] public string Version { get; set; } = "";

    public override bool Execute()
    {
        var provider = LibStdCxxCandidates.FirstOrDefault(p => File.Exists(p) && ContainsVersionString(p, Version));
        if (provider != null)
        {
            Log.LogMessage(MessageImportance.Low, $"{provider} provides {Version}; libLibTorchSharp.so left as shipped.");
            return true;
        }

        foreach (var item in Files)
        {
            try
            {
                string outcome = Weaken(item.ItemSpec, Version);
                Log.LogMessage(MessageImportance.Normal, $"{item.ItemSpec}: {outcome}");
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Log.LogError($"Could not mark {Version} weak in {item.ItemSpec}: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    static bool ContainsVersionString(string path, string version)
    {
        byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
        byte[] haystack = File.ReadAllBytes(path);
        for (int i = Array.IndexOf(haystack, needle[0]); i >= 0 && i <= haystack.Length - needle.Length;
             i = Array.IndexOf(haystack, needle[0], i + 1))
        {
            int k = 1;
            while (k < needle.Length && haystack[i + k] == needle[k]) k++;
            if (k == needle.Length) return true;
        }
        return false;
    }

    /// <summary>Sets VER_FLG_WEAK on the named entry of the .gnu.version_r section (ELF64, little-endian).</summary>
    static string Weaken(string path, string version)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF is supported");

        ulong shoff = BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);

        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)shoff + i * shentsize);
            if (BitConverter.ToUInt32(elf, sh + 4) != SHT_GNU_verneed) continue;

            int sectionOffset = checked((int)BitConverter.ToUInt64(elf, sh + 0x18));
            int linkedStrings = (int)BitConverter.ToUInt32(elf, sh + 0x28);
            int entries = (int)BitConverter.ToUInt32(elf, sh + 0x2C);     // sh_info: number of Verneed entries
            int strtab = checked((int)BitConverter.ToUInt64(elf, (int)shoff + linkedStrings * shentsize + 0x18));

            int need = sectionOffset;
            for (int n = 0; n < entries; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, need + 2);
                int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                    int name = strtab + (int)BitConverter.ToUInt32(elf, aux + 8);
                    int end = Array.IndexOf(elf, (byte)0, name);
                    if (Encoding.ASCII.GetString(elf, name, end - name) == version)
                    {
                        if ((flags & VER_FLG_WEAK) != 0) return $"{version} already weak";
                        BitConverter.GetBytes((ushort)(flags | VER_FLG_WEAK)).CopyTo(elf, aux + 4);
                        // A new file, never an in-place write: the output copy might be a hard link into the NuGet cache.
                        string temp = path + ".tmp-weaken";
                        File.WriteAllBytes(temp, elf);
                        File.Delete(path);
                        File.Move(temp, path);
                        return $"marked {version} weak so glibc loads it without GCC 13's libstdc++";
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                need += (int)BitConverter.ToUInt32(elf, need + 12);
            }
        }
        return $"no {version} requirement found";
    }
}
