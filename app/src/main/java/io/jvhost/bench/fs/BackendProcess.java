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

    /**
     * How a jvhost process is started: its argv, and the JVM options the launcher should add
     * (JDK_JAVA_OPTIONS, read by the java launcher itself) when argv starts with it.
     */
    public record Command(List<String> argv, List<String> extraJvmOptions) {
        public Command {
            argv = List.copyOf(argv);
            extraJvmOptions = List.copyOf(extraJvmOptions);
        }

        public Command(List<String> argv) {
            this(argv, List.of());
        }

        /** This command with {@code args} appended. */
        public Command withArgs(List<String> args) {
            List<String> all = new ArrayList<>(argv);
            all.addAll(args);
            return new Command(all, extraJvmOptions);
        }

        public ProcessBuilder processBuilder() {
            ProcessBuilder pb = new ProcessBuilder(argv);
            if (!extraJvmOptions.isEmpty()) pb.environment().put("JDK_JAVA_OPTIONS", String.join(" ", extraJvmOptions));
            return pb;
        }
    }

    /** {@code jvhost fs} as {@link #jvhostCommand} runs it, with {@code jvmArgs} (e.g. JFR) added, unconfined. */
    public static BackendProcess jvhost(Path workDir, int poolSize, List<String> jvmArgs) throws IOException {
        return jvhost(workDir, poolSize, jvmArgs, Confinement.NONE, List.of());
    }

    /** As {@link #jvhost(Path, int, List)}, confined as {@code sandbox} says, with {@code args} added. */
    public static BackendProcess jvhost(
            Path workDir, int poolSize, List<String> jvmArgs, Confinement sandbox, List<String> args)
            throws IOException {
        Command c = jvhostCommand(jvmArgs)
                .withArgs(List.of("fs", "--log-level", "warn", "--thread-pool-size", Integer.toString(poolSize)))
                .withArgs(sandbox.args())
                .withArgs(args);
        return start("jvhost", workDir, c);
    }

    /**
     * The command that runs jvhost as its users do: the {@code ./jvhost} launcher when this JVM
     * was started by it (it tells through {@code -Djvhost.launcher}; it adds the daemon JVM
     * options, the AOT cache and drops privileges before the JVM starts), else java with the
     * daemon JVM options ({@code -Djvhost.jvm.options}, the launcher's file) and this JVM's own
     * modules or classes.
     */
    public static Command jvhostCommand(List<String> jvmArgs) {
        String launcher = System.getProperty("jvhost.launcher");
        if (launcher != null && Files.isExecutable(Path.of(launcher))) return new Command(List.of(launcher), jvmArgs);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> argv = new ArrayList<>(List.of(java));
        String options = System.getProperty("jvhost.jvm.options");
        List<String> launch = launch();
        if (options != null && Files.isRegularFile(Path.of(options))) {
            argv.addAll(launch.contains("-cp") ? classPathOptions(Path.of(options)) : List.of("@" + options));
        }
        argv.addAll(jvmArgs);
        argv.addAll(launch);
        return new Command(argv);
    }

    /**
     * The daemon JVM options of {@code file} (the launcher's {@code @argfile}: one option a line,
     * '#' comments) for a JVM that runs jvhost from the class path: what they grant jvhost's
     * application module goes to the unnamed one (the JVM would warn of a module it does not
     * know, and the grant would miss).
     */
    public static List<String> classPathOptions(Path file) {
        try {
            return Files.readAllLines(file).stream()
                    .map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .map(l -> l.replace("=io.jvhost.app", "=ALL-UNNAMED"))
                    .toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("reading " + file, e);
        }
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

    /** virtiofsd confined as {@code sandbox} says, same pool size, {@code args} added. */
    public static BackendProcess virtiofsd(
            Path workDir, List<String> command, int poolSize, Confinement sandbox, List<String> args)
            throws IOException {
        List<String> argv = new ArrayList<>(command);
        argv.addAll(sandbox.args());
        argv.addAll(List.of("--log-level", "warn", "--thread-pool-size", Integer.toString(poolSize)));
        argv.addAll(args);
        return start("virtiofsd", workDir, new Command(argv));
    }

    /** {@code command} (virtiofsd) with the options the benches run it with. */
    static List<String> virtiofsdArgv(List<String> command, int poolSize) {
        List<String> argv = new ArrayList<>(command);
        argv.addAll(
                List.of("--sandbox", "none", "--log-level", "warn", "--thread-pool-size", Integer.toString(poolSize)));
        return argv;
    }

    /**
     * {@code jvhost fs} named {@code name} on an existing {@code shared} directory (several
     * back-ends on one directory, as the two ends of a migration are), with {@code args} after
     * the sub-command.
     */
    public static BackendProcess jvhostOn(Path workDir, String name, Path shared, List<String> args)
            throws IOException {
        List<String> fs = new ArrayList<>(List.of("fs"));
        fs.addAll(args);
        return start(name, workDir, shared, jvhostCommand(List.of()).withArgs(fs));
    }

    /** virtiofsd ({@code command}) named {@code name} on an existing {@code shared} directory, with {@code args}. */
    public static BackendProcess virtiofsdOn(
            Path workDir, String name, Path shared, List<String> command, List<String> args) throws IOException {
        return start(name, workDir, shared, new Command(command).withArgs(args));
    }

    private static BackendProcess start(String name, Path workDir, Command command) throws IOException {
        return start(name, workDir, Files.createDirectories(workDir.resolve(name + "-shared")), command);
    }

    private static BackendProcess start(String name, Path workDir, Path shared, Command command) throws IOException {
        Path socket = workDir.resolve(name + ".sock");
        Path log = workDir.resolve(name + ".log");
        Process p = command.withArgs(List.of("--socket-path", socket.toString(), "--shared-dir", shared.toString()))
                .processBuilder()
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
