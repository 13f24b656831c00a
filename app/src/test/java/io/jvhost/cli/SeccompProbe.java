package io.jvhost.cli;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * Test-only program (SyscallFilterTest): installs the daemon's filter through the production
 * class with {@code args[0]}'s action, shows the JVM still works (threads, files, GC), then makes
 * the system call {@code args[1]} (mount, ptrace or getpid) on a new thread, and prints what it
 * returned if it returns.
 */
final class SeccompProbe {
    private SeccompProbe() {}

    @SuppressWarnings("restricted") // a test's own downcall: the forbidden call has no nativeio method
    public static void main(String[] args) throws Exception {
        SyscallFilter.install(new Spelled.SeccompAction().convert(args[0]));
        List<byte[]> garbage = new ArrayList<>();
        for (int i = 0; i < 200; i++) garbage.add(new byte[64 * 1024]);
        System.gc();
        var tmp = Files.createTempFile("probe", ".txt");
        Files.writeString(tmp, "x" + garbage.size());
        Files.delete(tmp);
        System.out.println("filter installed; the JVM works");
        System.out.flush();
        long nr = switch (args[1]) {
            case "mount" -> 165;
            case "ptrace" -> 101;
            case "getpid" -> 39;
            default -> throw new IllegalArgumentException(args[1]);
        };
        Linker linker = Linker.nativeLinker();
        MethodHandle syscall = linker.downcallHandle(
                linker.defaultLookup().find("syscall").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                Linker.Option.firstVariadicArg(1));
        long[] result = new long[1];
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                result[0] = (long) syscall.invokeExact(nr, 0L, 0L, 0L);
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        });
        t.join();
        System.out.println(args[1] + " returned " + result[0]);
    }
}
