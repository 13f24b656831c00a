package io.jvhost.migration;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Wraps the byte stream of one state channel on the source, after its preamble: a hook for
 * throttling a link, and for tests that delay, corrupt or cut one channel.
 */
@FunctionalInterface
public interface ChannelFilter {
    ChannelFilter NONE = (channel, out) -> out;

    OutputStream wrap(int channel, OutputStream out) throws IOException;
}
