package io.jvhost.testing.qemu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * The processes one test started. {@link #close()} stops them all, newest first, whatever the
 * test's outcome. Logs go to {@code <logDir>/<name>.log}; every command line is appended to
 * {@code <logDir>/commands.txt} (shell-quoted, to re-run by hand).
 */
public final class ProcessGroup implements AutoCloseable {
    private final Path logDir;
    private final List<ManagedProcess> processes = new ArrayList<>();
    private Duration stopGrace = Duration.ofSeconds(5);

    public ProcessGroup(Path logDir) {
        this.logDir = logDir;
    }

    public Path logDir() {
        return logDir;
    }

    /** How long {@link #close()} waits after SIGTERM before SIGKILL (default 5 s). */
    public ProcessGroup stopGrace(Duration grace) {
        this.stopGrace = grace;
        return this;
    }

    /** Starts {@code argv}, output to {@code <logDir>/<name>.log}. */
    public ManagedProcess start(String name, List<String> argv) {
        return start(name, argv, null);
    }

    /**
     * Starts {@code argv}; {@code customizer} may change the working directory or environment of
     * the {@link ProcessBuilder} (not its redirections).
     */
    public synchronized ManagedProcess start(String name, List<String> argv, Consumer<ProcessBuilder> customizer) {
        Path log = uniqueLog(name);
        record(name, argv);
        try {
            ManagedProcess p = ProcessLauncher.start(name, argv, log, customizer);
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + " " + argv, e);
        }
    }

    /**
     * Starts a Java main class in a child JVM with the test class path (e.g. a jvhost back-end
     * daemon), with {@code --enable-native-access=ALL-UNNAMED}.
     */
    public ManagedProcess startJava(String name, String mainClass, List<String> jvmArgs, List<String> args) {
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        argv.add("--enable-native-access=ALL-UNNAMED");
        argv.addAll(jvmArgs);
        argv.add("-cp");
        argv.add(System.getProperty("java.class.path"));
        argv.add(mainClass);
        argv.addAll(args);
        return start(name, argv);
    }

    public synchronized List<ManagedProcess> processes() {
        return List.copyOf(processes);
    }

    private Path uniqueLog(String name) {
        String base = name.replaceAll("[^A-Za-z0-9._-]", "_");
        Path p = logDir.resolve(base + ".log");
        for (int i = 2; Files.exists(p); i++) p = logDir.resolve(base + "-" + i + ".log");
        return p;
    }

    private void record(String name, List<String> argv) {
        String line = "# " + LocalTime.now() + " " + name + "\n"
                + argv.stream().map(ProcessGroup::shellQuote).collect(Collectors.joining(" ")) + "\n";
        try {
            Files.writeString(
                    logDir.resolve("commands.txt"),
                    line,
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // best effort
        }
    }

    static String shellQuote(String s) {
        if (s.matches("[A-Za-z0-9_./=:,@%+-]+")) return s;
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** Stops every process, newest first (SIGTERM, then SIGKILL after the grace period). */
    @Override
    public synchronized void close() {
        for (int i = processes.size() - 1; i >= 0; i--) {
            ManagedProcess p = processes.get(i);
            try {
                p.stop(stopGrace);
            } catch (RuntimeException ignored) {
                // keep stopping the rest
            }
        }
    }
}
