package io.jvhost.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * {@code --sandbox}, virtiofsd's confinement of the daemon. The sandbox is made before the JVM
 * starts, by the launcher (scripts/sandbox.sh: a JVM is multi-threaded before main, and
 * unshare(CLONE_NEWNS) refuses a process whose threads share its file system context), which
 * tells the daemon through its environment which sandbox it runs in and where the shared
 * directory is there. This class checks that the sandbox asked for is the one the daemon is in:
 * a daemon started without the launcher cannot honour {@code --sandbox namespace} and says so
 * instead of running unconfined.
 */
final class Sandbox {
    /** virtiofsd's modes: pivot_root in new mount, pid and net namespaces; chroot; none. */
    enum Mode {
        NAMESPACE,
        CHROOT,
        NONE
    }

    /**
     * Set by the launcher: the mode it set up, the shared directory's path inside, why it could
     * not, and whether it made a user namespace (an unprivileged user's namespace sandbox).
     */
    static final String MODE = "JVHOST_SANDBOX",
            SHARED = "JVHOST_SANDBOX_SHARED",
            UNAVAILABLE = "JVHOST_SANDBOX_UNAVAILABLE",
            USER_NAMESPACE = "JVHOST_SANDBOX_USERNS";

    private Sandbox() {}

    /**
     * The shared directory as the daemon sees it in the sandbox {@code mode} asks for; a
     * ParameterException naming {@code --sandbox} when this process is not in that sandbox.
     */
    static Path sharedDir(Mode mode, Path sharedDir, Map<String, String> env, CommandSpec spec) {
        String inside = env.get(MODE);
        String asked = Spelled.spelling(mode);
        if (mode == Mode.NONE) {
            if (inside != null)
                throw refused(spec, asked, "this process runs in the launcher's " + inside + " sandbox");
            return sharedDir;
        }
        if (env.get(UNAVAILABLE) != null) throw refused(spec, asked, env.get(UNAVAILABLE));
        if (!asked.equals(inside))
            throw refused(
                    spec,
                    asked,
                    inside == null
                            ? "the sandbox is made before the JVM starts, by the jvhost launcher (./jvhost, "
                                    + "./jvhost-virtiofsd); this JVM was started without it (use --sandbox none)"
                            : "the launcher set up --sandbox " + inside);
        String shared = env.get(SHARED);
        if (shared == null || shared.isEmpty()) throw refused(spec, asked, "the launcher named no shared directory");
        return Path.of(shared);
    }

    /**
     * {@code --uid-map} / {@code --gid-map}, virtiofsd's rule: only for an unprivileged user's
     * {@code --sandbox namespace}, where the launcher made the user namespace; there the maps
     * this process's namespace has (/proc/self/uid_map, gid_map) must be the ones asked for.
     */
    static void checkUserNamespace(
            Mode mode,
            List<UserNamespaceMap> uidMap,
            List<UserNamespaceMap> gidMap,
            Map<String, String> env,
            CommandSpec spec)
            throws IOException {
        boolean made = mode == Mode.NAMESPACE && "mapped".equals(env.get(USER_NAMESPACE));
        for (var m : List.of(Map.entry("--uid-map", uidMap), Map.entry("--gid-map", gidMap))) {
            if (m.getValue().isEmpty()) continue;
            if (!made)
                throw new ParameterException(
                        spec.commandLine(),
                        m.getKey() + ": can only be used by an unprivileged user with --sandbox namespace "
                                + "(use '--sandbox namespace' instead)");
            Path file = Path.of(m.getKey().equals("--uid-map") ? "/proc/self/uid_map" : "/proc/self/gid_map");
            List<String> have = Files.readAllLines(file).stream()
                    .map(l -> String.join(" ", l.trim().split("\\s+")))
                    .toList();
            List<String> want =
                    m.getValue().stream().map(UserNamespaceMap::line).toList();
            if (!new java.util.HashSet<>(have).equals(new java.util.HashSet<>(want)))
                throw new ParameterException(
                        spec.commandLine(), m.getKey() + ": this user namespace maps " + have + ", not " + want);
        }
    }

    private static ParameterException refused(CommandSpec spec, String mode, String why) {
        return new ParameterException(spec.commandLine(), "--sandbox " + mode + ": " + why);
    }
}
