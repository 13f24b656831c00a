package io.jvhost.testing.qemu;

/**
 * Something a {@code @Tag("qemu")} test needs (QEMU, the guest kernel, virtiofsd, busybox, ...)
 * is missing. This is deliberately a failure, never a skip (JUnit treats any exception other than
 * an aborted assumption as a failure): tests that boot guests must not silently pass in CI.
 */
public final class MissingTestDependencyException extends IllegalStateException {
    static final String HINT =
            "Run scripts/install-test-deps.sh (as root or with sudo) in the repository, or set JVHOST_DEPS "
                    + "(environment) / -Djvhost.deps (system property) to a .deps directory that has it.";

    public MissingTestDependencyException(String what) {
        super(message(what));
    }

    public MissingTestDependencyException(String what, Throwable cause) {
        super(message(what), cause);
    }

    private static String message(String what) {
        String ci = "true".equalsIgnoreCase(System.getenv("CI"))
                ? " (CI=true: missing test dependencies are a hard failure.)"
                : " (The QEMU tests run in integration-test: `mvn test` alone leaves them out.)";
        return "QEMU test dependency missing: " + what + ". " + HINT + ci;
    }
}
