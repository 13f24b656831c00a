package io.jvhost.bench.fs;

import java.util.List;

/**
 * How a bench runs both back-ends: their {@code --sandbox} and {@code --seccomp} words (namespace,
 * chroot, none; kill, log, trap, none), which jvhost and virtiofsd spell alike.
 */
public record Confinement(String sandbox, String seccomp) {
    /** No sandbox, no filter. */
    public static final Confinement NONE = new Confinement("none", "none");

    public Confinement {
        if (!List.of("namespace", "chroot", "none").contains(sandbox))
            throw new IllegalArgumentException("--sandbox: namespace, chroot or none, not " + sandbox);
        if (!List.of("kill", "log", "trap", "none").contains(seccomp))
            throw new IllegalArgumentException("--seccomp: kill, log, trap or none, not " + seccomp);
    }

    /** The daemons' options. */
    public List<String> args() {
        return List.of("--sandbox", sandbox, "--seccomp", seccomp);
    }
}
