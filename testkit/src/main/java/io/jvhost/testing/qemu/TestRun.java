package io.jvhost.testing.qemu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Everything one QEMU test owns, released by {@link #close()} whatever the outcome:
 * <ul>
 *   <li>{@link #logDir()}: {@code <repo>/target/qemu-tests/<test-name>/}, emptied when the run is
 *       created and kept afterwards (serial consoles, QEMU/virtiofsd output, traces, QMP traffic,
 *       {@code commands.txt}, {@code timings.txt}, shared directories);</li>
 *   <li>{@link #runDir()}: a short private temporary directory for unix sockets (a socket path must
 *       fit in 107 bytes, which {@code target/} paths in CI clones often do not), deleted on close;</li>
 *   <li>{@link #processes()}: every process the test started (QEMU, virtiofsd, back-end daemons);</li>
 *   <li>anything passed to {@link #register(AutoCloseable)} (guests, in-JVM back-ends, ...).</li>
 * </ul>
 * Obtain one per test through {@link QemuTest @QemuTest} (a {@code TestRun} parameter), or
 * {@link #create(String)} in a try-with-resources.
 */
public final class TestRun implements AutoCloseable {
    private final String name;
    private final TestDeps deps;
    private final Path logDir;
    private final Path runDir;
    private final ProcessGroup processes;
    private final Deque<AutoCloseable> closeables = new ArrayDeque<>();
    private boolean closed;

    private TestRun(String name, TestDeps deps, Path logDir, Path runDir) {
        this.name = name;
        this.deps = deps;
        this.logDir = logDir;
        this.runDir = runDir;
        this.processes = new ProcessGroup(logDir);
    }

    /** A run whose logs go to {@code target/qemu-tests/<testName>/} (emptied first). */
    public static TestRun create(String testName) {
        TestDeps deps = TestDeps.get();
        String safe = testName.replaceAll("[^A-Za-z0-9._-]+", "_");
        Path logDir = deps.qemuTestsDir().resolve(safe);
        try {
            deleteRecursively(logDir);
            Files.createDirectories(logDir);
            Path runDir = Files.createTempDirectory(
                    Path.of(System.getProperty("java.io.tmpdir")),
                    "jvq-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            TestRun run = new TestRun(safe, deps, logDir, runDir);
            Files.writeString(logDir.resolve("rundir.txt"), runDir + "\n");
            return run;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + logDir, e);
        }
    }

    public String name() {
        return name;
    }

    public TestDeps deps() {
        return deps;
    }

    /** Kept logs: {@code <repo>/target/qemu-tests/<test-name>/}. */
    public Path logDir() {
        return logDir;
    }

    /** Short-lived private directory for sockets (deleted on close). */
    public Path runDir() {
        return runDir;
    }

    /** {@code <runDir>/<name>.sock} (not created). */
    public Path socket(String name) {
        return runDir.resolve(name + ".sock");
    }

    /** A directory {@code <logDir>/<name>}, created (kept after the test, e.g. a shared directory). */
    public Path dir(String name) {
        Path d = logDir.resolve(name);
        try {
            Files.createDirectories(d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return d;
    }

    public ProcessGroup processes() {
        return processes;
    }

    /** Starts a process whose output goes to {@code <logDir>/<name>.log}; stopped on close. */
    public ManagedProcess start(String name, List<String> argv) {
        return processes.start(name, argv);
    }

    public ManagedProcess start(String name, List<String> argv, Consumer<ProcessBuilder> customizer) {
        return processes.start(name, argv, customizer);
    }

    /** Closes {@code resource} when the run closes (newest first, before the processes are stopped). */
    public synchronized <T extends AutoCloseable> T register(T resource) {
        closeables.push(resource);
        return resource;
    }

    /**
     * Appends a line to {@code <logDir>/timings.txt} and prints it (e.g. boot and test times, so
     * CI logs show them).
     */
    public void note(String format, Object... args) {
        String line = "[" + name + "] " + String.format(Locale.ROOT, format, args);
        System.out.println("[qemu-test] " + line);
        try {
            Files.writeString(
                    logDir.resolve("timings.txt"),
                    line + "\n",
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** Seconds with one decimal, for {@link #note}. */
    public static String secs(Duration d) {
        return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    @Override
    public void close() {
        List<AutoCloseable> toClose;
        synchronized (this) {
            if (closed) return;
            closed = true;
            toClose = List.copyOf(closeables);
            closeables.clear();
        }
        RuntimeException first = null;
        for (AutoCloseable c : toClose) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) first = new IllegalStateException("closing " + c + " failed", e);
                else first.addSuppressed(e);
            }
        }
        processes.close();
        try {
            deleteRecursively(runDir);
        } catch (IOException ignored) {
            // a leftover empty temp dir is harmless
        }
        if (first != null) throw first;
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    @Override
    public String toString() {
        return "TestRun[" + name + ", logs " + logDir + "]";
    }
}
