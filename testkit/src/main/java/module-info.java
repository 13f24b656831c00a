/**
 * The test kit: the harness that boots QEMU guests and starts virtiofsd and jvhost daemons for a
 * test, and the fault-injecting device and daemon the migration fault tests use.
 */
module io.jvhost.testkit {
    requires transitive io.jvhost.core;
    requires io.jvhost.app;
    requires info.picocli;
    requires transitive org.junit.jupiter.api;
    requires transitive com.fasterxml.jackson.databind;

    exports io.jvhost.testing;
    exports io.jvhost.testing.qemu;
}
