package io.jvhost.migration;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * 128 random bits chosen by the source per migration, so a destination matches state channels to
 * their main channel and a stray or stale connection cannot join someone else's stream.
 */
record SessionId(long high, long low) {
    private static final SecureRandom RANDOM = new SecureRandom();

    static SessionId random() {
        return new SessionId(RANDOM.nextLong(), RANDOM.nextLong());
    }

    @Override
    public String toString() {
        return HexFormat.of().toHexDigits(high) + HexFormat.of().toHexDigits(low);
    }
}
