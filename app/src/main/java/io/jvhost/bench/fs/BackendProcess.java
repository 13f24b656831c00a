package io.jvhost.bench.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A virtio-fs back-end under test, running as its own process on its own socket and shared
 * directory, its output in {@code log}. Both jvhost and virtiofsd run as child processes so
 * that neither shares a JVM (heap, GC pauses, JIT threads, safepoints) with the driver that
 * measures them.
 */
public record BackendProcess(String name, Process process, Path socket, Path sharedDir, Path log)
        implements AutoCloseable {

    /** {@code jvhost fs} from this JVM's own modules (or classes) and java, with {@code jvmArgs} (e.g. JFR) first. */
    public static BackendProcess jvhost(Path workDir, int poolSize, List<String> jvmArgs) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> argv = new ArrayList<>(List.of(java));
        argv.addAll(jvmArgs);
        argv.addAll(launch());
        argv.addAll(List.of("fs", "--log-level", "warn", "--thread-pool-size", Integer.toString(poolSize)));
        return start("jvhost", workDir, argv);
    }

    /** How this JVM runs the CLI: on the module path (the launcher) or the class path (tests). */
    private static List<String> launch() {
        String modulePath = System.getProperty("jdk.module.path");
        if (BackendProcess.class.getModule().isNamed() && modulePath != null && !modulePath.isBlank()) {
            return List.of(
                    "--enable-native-access=io.jvhost.core",
                    "-p",
                    modulePath,
                    "-m",
                    "io.jvhost.app/io.jvhost.cli.Main");
        }
        String cp = System.getProperty("surefire.test.class.path"); // tests: the real classpath
        if (cp == null || cp.isBlank()) cp = System.getProperty("java.class.path");
        return List.of("--enable-native-access=ALL-UNNAMED", "-cp", cp, "io.jvhost.cli.Main");
    }

    /** virtiofsd as the test harness runs it: no sandbox (no privileges needed), same pool size. */
    public static BackendProcess virtiofsd(Path workDir, List<String> command, int poolSize) throws IOException {
        List<String> argv = new ArrayList<>(command);
        argv.addAll(
                List.of("--sandbox", "none", "--log-level", "warn", "--thread-pool-size", Integer.toString(poolSize)));
        return start("virtiofsd", workDir, argv);
    }

    /**
     * {@code jvhost fs} named {@code name} on an existing {@code shared} directory (several
     * back-ends on one directory, as the two ends of a migration are), with {@code args} after
     * the sub-command.
     */
    public static BackendProcess jvhostOn(Path workDir, String name, Path shared, List<String> args)
            throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> argv = new ArrayList<>(List.of(java));
        argv.addAll(launch());
        argv.add("fs");
        argv.addAll(args);
        return start(name, workDir, shared, argv);
    }

    /** virtiofsd ({@code command}) named {@code name} on an existing {@code shared} directory, with {@code args}. */
    public static BackendProcess virtiofsdOn(
            Path workDir, String name, Path shared, List<String> command, List<String> args) throws IOException {
        List<String> argv = new ArrayList<>(command);
        argv.addAll(args);
        return start(name, workDir, shared, argv);
    }

    private static BackendProcess start(String name, Path workDir, List<String> argv) throws IOException {
        return start(name, workDir, Files.createDirectories(workDir.resolve(name + "-shared")), argv);
    }

    private static BackendProcess start(String name, Path workDir, Path shared, List<String> argv) throws IOException {
        Path socket = workDir.resolve(name + ".sock");
        Path log = workDir.resolve(name + ".log");
        argv = new ArrayList<>(argv);
        argv.addAll(List.of("--socket-path", socket.toString(), "--shared-dir", shared.toString()));
        Process p = new ProcessBuilder(argv)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        BackendProcess b = new BackendProcess(name, p, socket, shared, log);
        try {
            b.awaitSocket(20_000);
        } catch (IOException e) {
            b.close();
            throw e;
        }
        return b;
    }

    private void awaitSocket(long timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (!Files.exists(socket)) {
            if (!process.isAlive())
                throw new IOException(name + " exited with " + process.exitValue() + "; see " + log);
            if (System.nanoTime() > deadline)
                throw new IOException(name + ": no socket after " + timeoutMillis + " ms; see " + log);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting " + name, e);
            }
        }
    }

    /** SIGTERM, then SIGKILL after 5 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
