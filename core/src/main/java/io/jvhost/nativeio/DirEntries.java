package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * getdents64(2): reads a batch of directory entries from an open directory descriptor at its
 * current position (set it with {@link FileIo#lseek} to an entry's {@link DirEntry64#offset}
 * to continue after that entry).
 */
public final class DirEntries {
    private DirEntries() {}

    private static final MethodHandle GETDENTS64 =
            Libc.errnoCall("getdents64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    /** Room for at least one entry with a NAME_MAX name (19-byte header + 256 + padding). */
    public static final int MIN_BUFFER = 280;

    /** The next entries, as many as fit in {@code bufferSize} bytes; empty at the end of the directory. */
    public static List<DirEntry64> read(Fd dir, int bufferSize) throws NativeException {
        if (bufferSize < MIN_BUFFER) throw new IllegalArgumentException("buffer too small: " + bufferSize);
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            MemorySegment buf = a.allocate(bufferSize, 8);
            long n;
            while (true) {
                n = (long) GETDENTS64.invokeExact(st, dir.value(), buf, (long) bufferSize);
                if (n >= 0) break;
                if (Libc.errno(st) != Errno.EINTR) throw Libc.fail("getdents64", st);
            }
            return parse(buf, n);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[] (NUL-terminated). */
    static List<DirEntry64> parse(MemorySegment buf, long length) {
        List<DirEntry64> out = new ArrayList<>();
        long pos = 0;
        while (pos + 19 <= length) {
            long ino = buf.get(ValueLayouts.LONG, pos);
            long off = buf.get(ValueLayouts.LONG, pos + 8);
            int reclen = buf.get(ValueLayouts.SHORT, pos + 16) & 0xffff;
            int type = buf.get(JAVA_BYTE, pos + 18) & 0xff;
            if (reclen < 20 || pos + reclen > length) {
                throw new IllegalStateException("getdents64 returned a malformed record at " + pos);
            }
            long nameStart = pos + 19;
            long nameEnd = nameStart;
            while (nameEnd < pos + reclen && buf.get(JAVA_BYTE, nameEnd) != 0) nameEnd++;
            out.add(new DirEntry64(
                    ino, off, type, buf.asSlice(nameStart, nameEnd - nameStart).toArray(JAVA_BYTE)));
            pos += reclen;
        }
        return out;
    }
}
