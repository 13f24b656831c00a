package io.jvhost.migration;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What one device migration cost. The phases are measured where they happen; save, transfer
 * and load run pipelined (A's bytes go out while A still writes, B reads them as they arrive),
 * so they overlap and do not add up to the downtime.
 *
 * @param suspend          stopping the source's rings (SET_VRING_ENABLE 0, GET_VRING_BASE)
 * @param save             from SET_DEVICE_STATE_FD(save) on A to A's EOF
 * @param checkSource      CHECK_DEVICE_STATE on A
 * @param transfer         from the stream's handshake to the destination's OK (which comes after B's CHECK)
 * @param load             from B's first state byte to its EOF; empty when the destination is another process
 * @param checkDestination CHECK_DEVICE_STATE on B; empty when the destination is another process
 * @param resume           starting the rings again: on B after success (or on A after a failure)
 * @param downtime         from the start of the suspend to the end of the resume
 */
public record MigrationReport(
        Duration suspend,
        Duration save,
        Duration checkSource,
        Duration transfer,
        Optional<Duration> load,
        Optional<Duration> checkDestination,
        Duration resume,
        Duration downtime,
        long stateBytes,
        int channels,
        List<Long> packetsPerChannel) {

    public MigrationReport {
        Objects.requireNonNull(load);
        Objects.requireNonNull(checkDestination);
        packetsPerChannel = List.copyOf(packetsPerChannel);
    }

    /** State bytes per second over the transfer phase. */
    public double bytesPerSecond() {
        long nanos = transfer.toNanos();
        return nanos <= 0 ? 0 : stateBytes * 1e9 / nanos;
    }

    /** A few readable lines, for the CLI and the demo. */
    public String format() {
        String remote = "in the destination's report";
        return String.format(
                """
                downtime   %s ms
                  suspend  %s ms
                  save     %s ms   (A writes its state; overlaps the transfer)
                  transfer %s ms   (handshake to the destination's OK)
                  load     %s   (B reads its state as it arrives)
                  check    %s ms on A, %s on B
                  resume   %s ms
                state      %d bytes over %d channel(s), packets per channel %s, %s/s""",
                ms(downtime),
                ms(suspend),
                ms(save),
                ms(transfer),
                load.map(d -> ms(d) + " ms").orElse(remote),
                ms(checkSource),
                checkDestination.map(d -> ms(d) + " ms").orElse("its own"),
                ms(resume),
                stateBytes,
                channels,
                packetsPerChannel,
                human(bytesPerSecond()));
    }

    /** {@code d} in milliseconds with two decimals, as the report prints it. */
    public static String ms(Duration d) {
        return String.format("%.2f", d.toNanos() / 1e6);
    }

    static String human(double bytes) {
        if (bytes >= 1 << 30) return String.format("%.1f GiB", bytes / (1 << 30));
        if (bytes >= 1 << 20) return String.format("%.1f MiB", bytes / (1 << 20));
        if (bytes >= 1 << 10) return String.format("%.1f KiB", bytes / (1 << 10));
        return String.format("%.0f B", bytes);
    }
}
