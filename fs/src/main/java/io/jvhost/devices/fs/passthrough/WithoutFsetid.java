package io.jvhost.devices.fs.passthrough;

import io.jvhost.nativeio.Capability;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Privileges;
import io.jvhost.nativeio.Privileges.CapabilitySets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call made without CAP_FSETID, for FUSE_HANDLE_KILLPRIV_V2: the host kernel clears a file's
 * set-user-ID and set-group-ID bits on write, truncation and open with O_TRUNC unless the caller
 * has CAP_FSETID, so a daemon that has it drops it from its effective set for the call the guest
 * marked (as virtiofsd's drop_effective_cap("FSETID")). Capabilities are per thread in Linux:
 * only the request's platform thread loses it, and gets it back on {@link #close}; the permitted
 * set keeps it throughout. A daemon without it has nothing to drop.
 */
final class WithoutFsetid implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WithoutFsetid.class);
    private static final long FSETID = 1L << Capability.FSETID.number;
    private static final WithoutFsetid NOTHING_DROPPED = new WithoutFsetid(null);

    /** The thread's sets before, or null if CAP_FSETID was not in effect. */
    private final CapabilitySets before;

    private WithoutFsetid(CapabilitySets before) {
        this.before = before;
    }

    /** Drops CAP_FSETID from this thread's effective set, if it is there. */
    static WithoutFsetid enter() throws NativeException {
        CapabilitySets caps = Privileges.capabilities();
        if ((caps.effective() & FSETID) == 0) return NOTHING_DROPPED;
        Privileges.setEffectiveCapabilities(caps, caps.effective() & ~FSETID);
        return new WithoutFsetid(caps);
    }

    /** {@link #enter} if {@code kill}, else nothing dropped. */
    static WithoutFsetid enterIf(boolean kill) throws NativeException {
        return kill ? enter() : NOTHING_DROPPED;
    }

    /** Raises the effective set again (within the permitted set, which never lost it, so this does not fail). */
    @Override
    public void close() {
        if (before == null) return;
        try {
            Privileges.setEffectiveCapabilities(before, before.effective());
        } catch (NativeException e) {
            // The thread goes on with less privilege than it had, never more.
            LOG.warn(
                    "could not raise CAP_FSETID again on {}: {}",
                    Thread.currentThread().getName(),
                    e.getMessage());
        }
    }
}
