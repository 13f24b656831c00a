package io.jvhost.migration;

import io.jvhost.nativeio.CancellableFd;
import java.nio.channels.ReadableByteChannel;
import java.util.Optional;

/**
 * A state read from a pipe, which the source may then move to its sockets with splice(2) instead
 * of reading it (see {@link SpliceLane}). It reads the state in order, and always reads its last
 * bytes and the EOF through this channel, so the channel sees the EOF as if nothing was spliced.
 */
public interface StatePipe extends ReadableByteChannel {
    /** The pipe's read end (non-blocking, waits through it), if the state comes straight from one. */
    Optional<CancellableFd> pipe();
}
