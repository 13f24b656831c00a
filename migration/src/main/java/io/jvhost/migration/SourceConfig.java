package io.jvhost.migration;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link MigrationSource} sends.
 *
 * @param channels        state channels opened next to the main channel, 1..64
 * @param packetSize      back-end state bytes per packet (the last data packet may be shorter)
 * @param connectTimeout  for each TCP connect and for the destination's answer to the handshake
 * @param replyTimeout    how long to wait for the destination's verdict after the last packet
 * @param progress        progress reports, at most every {@code progressInterval}
 * @param channelFilter   wraps each state channel's output (throttling, tests)
 */
public record SourceConfig(
        int channels,
        int packetSize,
        Duration connectTimeout,
        Duration replyTimeout,
        ProgressListener progress,
        Duration progressInterval,
        ChannelFilter channelFilter) {
    public static final int DEFAULT_PACKET_SIZE = 1 << 20;

    public SourceConfig {
        if (channels < 1 || channels > StreamFormat.MAX_CHANNELS) {
            throw new IllegalArgumentException(
                    "channels must be 1.." + StreamFormat.MAX_CHANNELS + ", got " + channels);
        }
        if (packetSize < StreamFormat.MIN_PACKET_SIZE || packetSize > StreamFormat.MAX_PACKET_SIZE) {
            throw new IllegalArgumentException(
                    "packet size must be 1.." + StreamFormat.MAX_PACKET_SIZE + ", got " + packetSize);
        }
        Objects.requireNonNull(connectTimeout);
        Objects.requireNonNull(replyTimeout);
        Objects.requireNonNull(progress);
        Objects.requireNonNull(progressInterval);
        Objects.requireNonNull(channelFilter);
    }

    public static SourceConfig defaults() {
        return new SourceConfig(
                2,
                DEFAULT_PACKET_SIZE,
                Duration.ofSeconds(10),
                Duration.ofSeconds(60),
                ProgressListener.NONE,
                Duration.ofMillis(500),
                ChannelFilter.NONE);
    }

    public SourceConfig withChannels(int n) {
        return new SourceConfig(n, packetSize, connectTimeout, replyTimeout, progress, progressInterval, channelFilter);
    }

    public SourceConfig withPacketSize(int size) {
        return new SourceConfig(
                channels, size, connectTimeout, replyTimeout, progress, progressInterval, channelFilter);
    }

    public SourceConfig withTimeouts(Duration connect, Duration reply) {
        return new SourceConfig(channels, packetSize, connect, reply, progress, progressInterval, channelFilter);
    }

    public SourceConfig withProgress(ProgressListener listener, Duration interval) {
        return new SourceConfig(channels, packetSize, connectTimeout, replyTimeout, listener, interval, channelFilter);
    }

    public SourceConfig withChannelFilter(ChannelFilter filter) {
        return new SourceConfig(channels, packetSize, connectTimeout, replyTimeout, progress, progressInterval, filter);
    }
}
