package io.jvhost.protocol;

import io.jvhost.nativeio.Fd;
import java.util.List;

/**
 * A message or reply that may own file descriptors. A decoded message owns the descriptors it
 * received; whoever takes the message either moves them on (keeps the {@link Fd}s) or calls
 * {@link #closeFds()} — a handler that rejects a message must do the latter, or they leak.
 */
public interface CarriesFds {
    /** The descriptors this message carries, in wire order; empty for most messages. */
    default List<Fd> fds() {
        return List.of();
    }

    /** Closes every descriptor this message carries (each {@link Fd} closes at most once). */
    default void closeFds() {
        for (Fd fd : fds()) fd.close();
    }
}
