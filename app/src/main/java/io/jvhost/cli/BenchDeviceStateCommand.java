package io.jvhost.cli;

import io.jvhost.bench.fs.VirtiofsdLocator;
import io.jvhost.bench.state.DeviceStateBench;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jvhost bench-device-state}: a virtio-fs back-end's migration downtime at N looked-up files, jvhost next to virtiofsd. */
@Command(
        name = "bench-device-state",
        mixinStandardHelpOptions = true,
        description =
                "Measure a virtio-fs back-end's device-state migration (downtime, save, load) with N files looked "
                        + "up and a share of them open, through jvhost's front-end: jvhost's and virtiofsd's daemons as child "
                        + "processes, taking turns, in one run.")
final class BenchDeviceStateCommand implements Callable<Integer> {
    @Option(
            names = "--files",
            split = ",",
            defaultValue = "1000,15000",
            description = "Files looked up on A, one size per row (default: ${DEFAULT-VALUE}). Past the fd limit both "
                    + "back-ends need file-handle inodes, given as extra arguments (below).")
    List<Integer> files;

    @Option(
            names = "--handles",
            defaultValue = "0.1",
            description = "Share of the files also opened on A (default: ${DEFAULT-VALUE}).")
    double handles;

    @Option(
            names = "--rounds",
            defaultValue = "3",
            description = "Migrations per back-end and size (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(
            names = "--virtiofsd",
            defaultValue = "auto",
            paramLabel = "PATH",
            description = "virtiofsd binary or unpacked root; auto finds the test dependencies' one; none skips it "
                    + "(default: ${DEFAULT-VALUE}).")
    String virtiofsd;

    @Option(
            names = "--jvhost-arg",
            paramLabel = "ARG",
            description = "Extra argument for both jvhost fs daemons, repeatable (e.g. --migration-mode=file-handles).")
    List<String> jvhostArgs = new ArrayList<>();

    @Option(
            names = "--virtiofsd-arg",
            paramLabel = "ARG",
            description =
                    "Extra argument for both virtiofsd daemons, repeatable (e.g. --inode-file-handles=mandatory).")
    List<String> virtiofsdArgs = new ArrayList<>();

    @Option(
            names = "--announce-ms",
            defaultValue = "500",
            paramLabel = "MS",
            description =
                    "Set a dirty log and LOG_ALL on A this long before the save, as QEMU does when its RAM copy "
                            + "starts (back-ends prepare their state from there); 0: save unannounced (default: ${DEFAULT-VALUE}).")
    long announceMs;

    @Option(
            names = "--source-uptime-ms",
            defaultValue = "5000",
            paramLabel = "MS",
            description =
                    "A (the source) runs at least this long before the migration is announced, as a VM runs a while "
                            + "before it moves (default: ${DEFAULT-VALUE}).")
    long sourceUptimeMs;

    @Option(
            names = "--destination-lead-ms",
            defaultValue = "1000",
            paramLabel = "MS",
            description =
                    "B (the destination) starts this long before the migration is announced, as libvirt starts the "
                            + "destination's back-end and QEMU before the source's RAM copy (default: ${DEFAULT-VALUE}).")
    long destinationLeadMs;

    @Option(
            names = "--keep-logs",
            description = "Keep the daemons' logs (in a temp directory, named at the end) after a run that succeeded "
                    + "too; with the jvhost daemons at --log-level=info they show where each migration's time went.")
    boolean keepLogs;

    @Option(
            names = "--output",
            paramLabel = "DIR",
            description = "Also write the table (bench-device-state.md) into DIR.")
    Path output;

    @Override
    public Integer call() throws Exception {
        // Every session logs its handshake and each transfer at INFO: that would bury the table.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        Optional<List<String>> vfsd = "none".equals(virtiofsd) ? Optional.empty() : VirtiofsdLocator.find(virtiofsd);
        if (vfsd.isEmpty() && !"none".equals(virtiofsd)) System.out.println("virtiofsd not found: jvhost alone");
        // A --log-level among the extra arguments (info shows each migration's timeline) replaces warn.
        List<String> j = new ArrayList<>(
                jvhostArgs.stream().anyMatch(a -> a.startsWith("--log-level"))
                        ? List.of()
                        : List.of("--log-level", "warn"));
        j.addAll(jvhostArgs);
        List<String> v = new ArrayList<>(List.of("--sandbox", "none", "--log-level", "warn"));
        v.addAll(virtiofsdArgs);
        DeviceStateBench bench = new DeviceStateBench(
                new DeviceStateBench.Options(
                        files,
                        handles,
                        rounds,
                        vfsd,
                        j,
                        v,
                        java.time.Duration.ofMillis(announceMs),
                        java.time.Duration.ofMillis(sourceUptimeMs),
                        java.time.Duration.ofMillis(destinationLeadMs),
                        keepLogs),
                System.out);
        List<DeviceStateBench.Row> rows = bench.run();
        if (output != null) {
            Files.createDirectories(output);
            Path md = Files.writeString(output.resolve("bench-device-state.md"), DeviceStateBench.table(rows));
            System.out.println("wrote " + md);
        }
        return 0;
    }
}
