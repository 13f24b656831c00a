package io.jvhost.migration;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.channels.SocketChannel;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file descriptor of a JDK socket, for splice(2): the JDK keeps it to itself, so it is read
 * through {@code sun.nio.ch.SelChImpl} (exported to this module by scripts/jvm.options, to the
 * tests by the poms) and duplicated: the copy is ours to close, and the number can't be reused
 * under us when the JDK closes its own. Without the export the source simply does not splice.
 */
final class SocketFds {
    private static final Logger LOG = LoggerFactory.getLogger(SocketFds.class);
    private static final MethodHandle GET_FD_VAL = lookUp();

    private SocketFds() {}

    private static MethodHandle lookUp() {
        try {
            Class<?> c = Class.forName("sun.nio.ch.SelChImpl");
            return MethodHandles.lookup().findVirtual(c, "getFDVal", MethodType.methodType(int.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug(
                    "no socket fds (java.base/sun.nio.ch not exported to {}): the state channels copy: {}",
                    SocketFds.class.getModule(),
                    e.toString());
            return null;
        }
    }

    /** A duplicate of {@code channel}'s descriptor, owned by the caller; empty if it can't be had. */
    static Optional<Fd> dup(SocketChannel channel) {
        if (GET_FD_VAL == null) return Optional.empty();
        try {
            int fd = (int) GET_FD_VAL.invoke(channel);
            return Optional.of(Fd.adopt(Libc.fcntl(fd, Libc.F_DUPFD_CLOEXEC, 0, "fcntl(F_DUPFD_CLOEXEC)")));
        } catch (NativeException e) {
            LOG.debug("no duplicate of the socket's fd: {}", e.getMessage());
            return Optional.empty();
        } catch (Throwable t) {
            LOG.debug("no socket fd: {}", t.toString());
            return Optional.empty();
        }
    }
}
