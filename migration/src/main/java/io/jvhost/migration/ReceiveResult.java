package io.jvhost.migration;

import java.time.Duration;
import java.util.List;

/**
 * A migration received, verified and streamed out completely.
 *
 * @param virtio             the virtio device state from the CONFIG_STATE packet
 * @param deviceType         as announced by the source and accepted
 * @param stateBytes         back-end state bytes written to the output stream
 * @param packets            packets received, the CONFIG_STATE packet included
 * @param crc32c             CRC32C over every packet's data in index order (matched the source's)
 * @param packetsPerChannel  how many packets each state channel carried
 * @param peakHeldPackets    most packets buffered at once waiting for their turn (at most the window)
 * @param buffersAllocated   receive chunks ever allocated (at most window + channels: each held
 *                           packet pins one, each channel reader fills one)
 */
public record ReceiveResult(
        VirtioDeviceState virtio,
        String deviceType,
        long stateBytes,
        long packets,
        int crc32c,
        List<Long> packetsPerChannel,
        int peakHeldPackets,
        int buffersAllocated,
        Duration elapsed) {
    public ReceiveResult {
        packetsPerChannel = List.copyOf(packetsPerChannel);
    }
}
