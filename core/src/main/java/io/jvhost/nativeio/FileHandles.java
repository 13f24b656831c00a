package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * name_to_handle_at(2) / open_by_handle_at(2): path-independent identities of files, for
 * finding an inode again after a migration. Not every file system supports them
 * (EOPNOTSUPP); open_by_handle_at needs CAP_DAC_READ_SEARCH.
 */
public final class FileHandles {
    private FileHandles() {}

    /** MAX_HANDLE_SZ of the kernel. */
    public static final int MAX_HANDLE_SZ = 128;

    private static final MethodHandle NAME_TO_HANDLE_AT = Libc.errnoCall(
            "name_to_handle_at", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle OPEN_BY_HANDLE_AT =
            Libc.errnoCall("open_by_handle_at", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));

    /** The handle of {@code path} relative to {@code dir} (empty path + AT_EMPTY_PATH: {@code dir} itself). */
    public static FileHandle nameToHandle(Fd dir, byte[] path, int flags) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            // struct file_handle { unsigned int handle_bytes; int handle_type; unsigned char f_handle[]; }
            MemorySegment fh = a.allocate(8 + MAX_HANDLE_SZ, 4);
            fh.set(JAVA_INT, 0, MAX_HANDLE_SZ);
            MemorySegment mountId = a.allocate(JAVA_INT);
            int r = (int) NAME_TO_HANDLE_AT.invokeExact(
                    st, FileCalls.dirfd(dir), FileCalls.cString(a, path), fh, mountId, flags);
            FileCalls.check(r, "name_to_handle_at", st);
            // Copied out in two calls, not read field by field: as for statx (FileCalls), per-access
            // checks cost more than the syscall in code the JIT has not compiled fully yet.
            int[] head = a.words(); // [0] handle_bytes, [1] handle_type
            MemorySegment.copy(fh, JAVA_INT, 0, head, 0, 2);
            int len = head[0];
            if (len < 0 || len > MAX_HANDLE_SZ) throw new NativeException("name_to_handle_at", Errno.EOVERFLOW);
            byte[] bytes = new byte[len];
            MemorySegment.copy(fh, JAVA_BYTE, 8, bytes, 0, len);
            return new FileHandle(mountId.get(JAVA_INT, 0), head[1], bytes);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** The handle of the file an (O_PATH) descriptor refers to. */
    public static FileHandle of(Fd fd) throws NativeException {
        return nameToHandle(fd, new byte[0], FileCalls.AT_EMPTY_PATH);
    }

    /**
     * Opens a handle; {@code mountFd} is an open descriptor (not O_PATH: the kernel refuses
     * those here) of any file on the handle's mount.
     */
    public static Fd open(Fd mountFd, FileHandle handle, int flags) throws NativeException {
        byte[] bytes = handle.bytesUncopied(); // read only: a handle inode opens by it per request
        if (bytes.length > MAX_HANDLE_SZ) throw new IllegalArgumentException("handle too long: " + bytes.length);
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            MemorySegment fh = a.allocate(8L + bytes.length, 4);
            fh.set(JAVA_INT, 0, bytes.length);
            fh.set(JAVA_INT, 4, handle.type());
            MemorySegment.copy(bytes, 0, fh, JAVA_BYTE, 8, bytes.length);
            int r = (int) OPEN_BY_HANDLE_AT.invokeExact(st, mountFd.value(), fh, flags);
            return Fd.adopt(FileCalls.check(r, "open_by_handle_at", st));
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }
}
