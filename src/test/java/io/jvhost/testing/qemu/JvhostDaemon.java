package io.jvhost.testing.qemu;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts a jvhost daemon ({@code jvhost <device> --socket-path ...}) as its own process, the way
 * a user or libvirt would, from the classes under test: the CLI main class on the test
 * classpath (Surefire's {@code surefire.test.class.path}), with native access enabled.
 */
public final class JvhostDaemon {
    private JvhostDaemon() {}

    public static List<String> argv(String... args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) cp = System.getProperty("java.class.path");
        List<String> argv = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                "-cp", cp,
                "io.jvhost.cli.Main"));
        argv.addAll(List.of(args));
        return argv;
    }

    /** Starts {@code jvhost <args...> --socket-path <socket>} and waits for the socket file. */
    public static ManagedProcess start(TestRun run, String name, Path socket, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.add("--socket-path");
        all.add(socket.toString());
        ManagedProcess p = run.start(name, argv(all.toArray(String[]::new)));
        UnixSockets.awaitSocketFile(socket, Duration.ofSeconds(30), p);
        return p;
    }
}
