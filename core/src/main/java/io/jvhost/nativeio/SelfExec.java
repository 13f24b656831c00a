package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Starts this process's program again in place: execve(2) of /proc/self/exe with the very
 * argv of /proc/self/cmdline and the current environment. The kernel ends every other thread
 * and the new image begins with one thread whose credentials, capabilities and no_new_privs
 * are those of the calling thread, so what that thread set now holds for the whole process.
 * The pid stays, and with it the parent-death signal; descriptors other than stdin, stdout,
 * stderr and those kept are closed on the way (the JVM's own would otherwise leak into the
 * new image).
 */
public final class SelfExec {
    private SelfExec() {}

    private static final int FD_CLOEXEC = 1;
    private static final MethodHandle EXECVE =
            Libc.errnoCall("execve", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle SETENV =
            Libc.errnoCall("setenv", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));

    /**
     * Re-executes this program with {@code marker}=1 added to its environment; returns only by
     * throwing.
     */
    public static void restart(String marker, Set<Integer> keepFds) throws IOException {
        List<byte[]> argv = split(ProcFiles.read(Path.of("/proc/self/cmdline")));
        if (argv.isEmpty()) throw new IOException("/proc/self/cmdline is empty");
        closeOnExec(keepFds);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = Libc.capture();
            if ((int) SETENV.invokeExact(st, arena.allocateFrom(marker), arena.allocateFrom("1"), 1) < 0) {
                throw Libc.fail("setenv", st);
            }
            MemorySegment args = arena.allocate(ADDRESS, argv.size() + 1);
            for (int i = 0; i < argv.size(); i++) {
                byte[] a = Arrays.copyOf(argv.get(i), argv.get(i).length + 1);
                args.setAtIndex(ADDRESS, i, arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, a));
            }
            args.setAtIndex(ADDRESS, argv.size(), MemorySegment.NULL);
            MemorySegment environ = NativeAccess.sized(
                            Libc.LOOKUP.find("environ").orElseThrow(() -> new IOException("libc has no environ")),
                            ADDRESS.byteSize())
                    .get(ADDRESS, 0);
            String program = program();
            int r = (int) EXECVE.invokeExact(st, arena.allocateFrom(program), args, environ);
            throw Libc.fail("execve(" + program + ")", st); // execve returns only when it failed
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /**
     * The running binary by its name (the new image's comm, what ps shows, comes from it), or
     * /proc/self/exe when that name no longer leads to it (replaced since it started).
     */
    private static String program() throws IOException {
        Path self = Path.of("/proc/self/exe");
        Path named = Files.readSymbolicLink(self);
        boolean same = named.isAbsolute()
                && Files.exists(named)
                && Files.isSameFile(named, self); // same device and inode: a fresh stat of each
        return same ? named.toString() : self.toString();
    }

    /** NUL-terminated strings one after the other. */
    private static List<byte[]> split(byte[] cmdline) {
        List<byte[]> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < cmdline.length; i++) {
            if (cmdline[i] == 0) {
                out.add(Arrays.copyOfRange(cmdline, start, i));
                start = i + 1;
            }
        }
        return out;
    }

    /** FD_CLOEXEC on every descriptor but 0, 1, 2 and {@code keep}. */
    private static void closeOnExec(Set<Integer> keep) throws IOException {
        List<Integer> fds = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path p : dir) fds.add(Integer.parseInt(p.getFileName().toString()));
        }
        for (int fd : fds) {
            if (fd <= 2 || keep.contains(fd)) continue;
            try {
                int flags = Libc.fcntl(fd, Libc.F_GETFD, "fcntl(F_GETFD)");
                if ((flags & FD_CLOEXEC) == 0) Libc.fcntl(fd, Libc.F_SETFD, flags | FD_CLOEXEC, "fcntl(F_SETFD)");
            } catch (NativeException e) {
                if (e.errno() != Errno.EBADF) throw e; // the listing's own descriptor, closed by now
            }
        }
    }
}
