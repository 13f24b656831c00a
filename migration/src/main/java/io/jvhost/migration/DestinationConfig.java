package io.jvhost.migration;

import java.time.Duration;
import java.util.Objects;

/**
 * What a {@link MigrationDestination} accepts and how much it buffers.
 *
 * @param deviceType        the only device type accepted (the back-end this destination feeds)
 * @param supportedFeatures virtio features the destination back-end can take; a source offering others is refused
 * @param maxChannels       most state channels a source may open
 * @param maxPacketSize     largest packet size a source may announce (bounds each buffer)
 * @param window            packets held at most while waiting for a gap to fill: memory is bounded by
 *                          (window + channels) receive chunks of 256 KiB, or of a packet if larger
 * @param maxPackets        bound on packet indices when the source does not announce its state size
 * @param acceptTimeout     for the state channels to connect, and for each handshake read
 * @param idleTimeout       a state channel silent this long while data is expected fails the session
 */
public record DestinationConfig(
        String deviceType,
        long supportedFeatures,
        int maxChannels,
        int maxPacketSize,
        int window,
        long maxPackets,
        Duration acceptTimeout,
        Duration idleTimeout,
        ProgressListener progress,
        Duration progressInterval) {

    public DestinationConfig {
        Objects.requireNonNull(deviceType);
        if (maxChannels < 1 || maxChannels > StreamFormat.MAX_CHANNELS) {
            throw new IllegalArgumentException("maxChannels must be 1.." + StreamFormat.MAX_CHANNELS);
        }
        if (maxPacketSize < StreamFormat.MIN_PACKET_SIZE || maxPacketSize > StreamFormat.MAX_PACKET_SIZE) {
            throw new IllegalArgumentException("maxPacketSize must be 1.." + StreamFormat.MAX_PACKET_SIZE);
        }
        if (window < 1) {
            throw new IllegalArgumentException("window must be at least 1 packet");
        }
        if (maxPackets < 1 || maxPackets > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maxPackets must be 1.." + Integer.MAX_VALUE);
        }
        Objects.requireNonNull(acceptTimeout);
        Objects.requireNonNull(idleTimeout);
        Objects.requireNonNull(progress);
        Objects.requireNonNull(progressInterval);
    }

    /** 8 channels, packets up to 4 MiB, a window of 16 packets, 2^24 packets when the size is unknown. */
    public static DestinationConfig forDevice(String deviceType, long supportedFeatures) {
        return new DestinationConfig(
                deviceType,
                supportedFeatures,
                8,
                4 << 20,
                16,
                1 << 24,
                Duration.ofSeconds(10),
                Duration.ofSeconds(60),
                ProgressListener.NONE,
                Duration.ofMillis(500));
    }

    public DestinationConfig withLimits(int channels, int packetSize, int windowPackets, long packets) {
        return new DestinationConfig(
                deviceType,
                supportedFeatures,
                channels,
                packetSize,
                windowPackets,
                packets,
                acceptTimeout,
                idleTimeout,
                progress,
                progressInterval);
    }

    public DestinationConfig withTimeouts(Duration accept, Duration idle) {
        return new DestinationConfig(
                deviceType,
                supportedFeatures,
                maxChannels,
                maxPacketSize,
                window,
                maxPackets,
                accept,
                idle,
                progress,
                progressInterval);
    }

    public DestinationConfig withProgress(ProgressListener listener, Duration interval) {
        return new DestinationConfig(
                deviceType,
                supportedFeatures,
                maxChannels,
                maxPacketSize,
                window,
                maxPackets,
                acceptTimeout,
                idleTimeout,
                listener,
                interval);
    }
}
