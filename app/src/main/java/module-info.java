/**
 * The {@code jvhost} command: the CLI, the demo, the benches, and the devices that exist for them
 * (the synthetic state device). Nothing is exported except to the test kit, which
 * starts fault-injecting daemons through the CLI (with the benches' JVM options); picocli reads the commands reflectively.
 * XChart (the benches' plots) has no module descriptor: it is required as an automatic module.
 */
@SuppressWarnings("requires-automatic")
module io.jvhost.app {
    requires io.jvhost.core;
    requires io.jvhost.migration;
    requires io.jvhost.fs;
    requires io.jvhost.rng;
    requires info.picocli;
    requires org.knowm.xchart;
    requires java.desktop;
    requires java.management;
    requires jdk.management;
    requires jdk.unsupported; // sun.misc.Signal: a daemon's SIGTERM ends it at once (cli.SignalExit)

    exports io.jvhost.cli to
            io.jvhost.testkit;
    exports io.jvhost.bench.fs to
            io.jvhost.testkit; // BackendProcess.classPathOptions: the daemons' JVM options, as the benches pass them

    opens io.jvhost.cli to
            info.picocli;
}
