package io.jvhost.cli;

import java.nio.file.Path;
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

    /** Set by the launcher: the mode it set up, the shared directory's path inside, why it could not. */
    static final String MODE = "JVHOST_SANDBOX",
            SHARED = "JVHOST_SANDBOX_SHARED",
            UNAVAILABLE = "JVHOST_SANDBOX_UNAVAILABLE";

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

    private static ParameterException refused(CommandSpec spec, String mode, String why) {
        return new ParameterException(spec.commandLine(), "--sandbox " + mode + ": " + why);
    }
}
