package io.jvhost.testing.qemu;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Starts the harness's child processes so that none outlives the test JVM:
 * <ul>
 *   <li>each child runs under {@code setpriv --pdeathsig KILL} (util-linux, essential on Debian)
 *       when that exists, so the kernel kills it if the JVM dies, even by SIGKILL (e.g. a surefire
 *       fork timeout). The death signal fires when the <em>thread</em> that forked the child
 *       ends, so all children are forked from one dedicated thread that lives as long as the JVM;</li>
 *   <li>a shutdown hook kills whatever is still registered on a normal JVM exit.</li>
 * </ul>
 * Only PIDs started here are ever signalled.
 */
final class ProcessLauncher {
    private static final Set<ManagedProcess> LIVE = ConcurrentHashMap.newKeySet();
    private static final ExecutorService FORKER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "jvhost-test-process-forker");
        t.setDaemon(true);
        return t;
    });
    private static final Path SETPRIV = findSetpriv();

    static {
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            for (ManagedProcess p : List.copyOf(LIVE)) {
                                p.handle().descendants().forEach(ProcessHandle::destroyForcibly);
                                p.process().destroyForcibly();
                            }
                        },
                        "jvhost-test-process-reaper"));
    }

    private ProcessLauncher() {}

    private static Path findSetpriv() {
        if (Boolean.getBoolean("jvhost.test.noPdeathsig")) return null;
        Path p = TestDeps.findOnPath("setpriv");
        if (p == null) return null;
        try {
            Process probe = new ProcessBuilder(p.toString(), "--pdeathsig", "KILL", "--", "true")
                    .redirectErrorStream(true)
                    .start();
            probe.getInputStream().readAllBytes();
            return probe.waitFor() == 0 ? p : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Whether children get a parent-death signal. */
    static boolean hasPdeathsig() {
        return SETPRIV != null;
    }

    static ManagedProcess start(String name, List<String> argv, Path log, Consumer<ProcessBuilder> customizer)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        if (SETPRIV != null) {
            cmd.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "KILL", "--"));
        }
        cmd.addAll(argv);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        if (customizer != null) customizer.accept(pb);
        Future<ManagedProcess> f = FORKER.submit(() -> {
            long t0 = System.nanoTime();
            Process p = pb.start();
            ManagedProcess mp = new ManagedProcess(name, argv, p, log, t0);
            LIVE.add(mp);
            return mp;
        });
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) throw io;
            throw new IOException("cannot start " + name + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            // The fork may still happen: make sure it does not leak.
            FORKER.execute(() -> {
                try {
                    f.get().close();
                } catch (Exception ignored) {
                    // nothing started
                }
            });
            throw new IOException("interrupted while starting " + name, e);
        }
    }

    static void forget(ManagedProcess p) {
        LIVE.remove(p);
    }
}
