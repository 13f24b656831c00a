package io.jvhost.testing.qemu;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts a jvhost daemon ({@code jvhost <device> --socket-path ...}) as its own process, the way
 * a user or libvirt would, from the classes under test: the CLI main class (or a test-side main
 * class such as {@code io.jvhost.testing.FaultyFsDaemon}) on the test classpath (Surefire's
 * {@code surefire.test.class.path}), with native access enabled.
 */
public final class JvhostDaemon {
    private JvhostDaemon() {}

    public static List<String> argv(String... args) {
        return argv(io.jvhost.cli.Main.class, args);
    }

    /** The command line that runs {@code mainClass} with {@code args}. */
    public static List<String> argv(Class<?> mainClass, String... args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) cp = System.getProperty("java.class.path");
        List<String> argv = new ArrayList<>(List.of(java));
        // The launcher's JVM options (-Djvhost.jvm.options, set by the build), so tests run what users do.
        String options = System.getProperty("jvhost.jvm.options");
        if (options != null && Files.isRegularFile(Path.of(options))) {
            argv.addAll(io.jvhost.bench.fs.BackendProcess.classPathOptions(Path.of(options)));
        }
        argv.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp", cp, mainClass.getName()));
        argv.addAll(List.of(args));
        return argv;
    }

    /** Starts {@code jvhost <args...> --socket-path <socket>} and waits for the socket file. */
    public static ManagedProcess start(TestRun run, String name, Path socket, String... args) {
        return start(run, name, socket, io.jvhost.cli.Main.class, args);
    }

    /** Starts {@code mainClass <args...> --socket-path <socket>} and waits for the socket file. */
    public static ManagedProcess start(TestRun run, String name, Path socket, Class<?> mainClass, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--socket-path");
        all.add(socket.toString());
        ManagedProcess p = run.start(name, argv(mainClass, all.toArray(String[]::new)));
        UnixSockets.awaitSocketFile(socket, Duration.ofSeconds(30), p);
        return p;
    }
}
