package io.jvhost.migration;

import java.time.Duration;
import java.util.List;

/**
 * A migration the destination confirmed.
 *
 * @param stateBytes        back-end state bytes sent (the CONFIG_STATE packet not included)
 * @param packets           packets sent, the CONFIG_STATE packet included
 * @param crc32c            CRC32C over every packet's data in index order
 * @param packetsPerChannel how many packets each state channel carried (faster channels carry more)
 */
public record SendResult(long stateBytes, long packets, int crc32c, List<Long> packetsPerChannel, Duration elapsed) {
    public SendResult {
        packetsPerChannel = List.copyOf(packetsPerChannel);
    }
}
