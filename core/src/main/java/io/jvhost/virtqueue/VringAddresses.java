package io.jvhost.virtqueue;

/**
 * SET_VRING_ADDR's payload (without the ring index): the rings' front-end user addresses, the
 * flags, and the guest-physical address at which used-ring writes are logged.
 */
public record VringAddresses(int flags, long descUserAddr, long usedUserAddr, long availUserAddr, long logGuestAddr) {
    /** VHOST_VRING_F_LOG: bit 0 of flags, log writes to the used ring at logGuestAddr. */
    public static final int F_LOG = 1;

    public boolean logUsedRing() {
        return (flags & F_LOG) != 0;
    }

    /** Whether {@code other} places the rings at the same addresses (flags and log address may differ). */
    public boolean sameRings(VringAddresses other) {
        return descUserAddr == other.descUserAddr
                && usedUserAddr == other.usedUserAddr
                && availUserAddr == other.availUserAddr;
    }

    @Override
    public String toString() {
        return "VringAddresses[flags=0x" + Integer.toHexString(flags) + ", desc=0x" + Long.toHexString(descUserAddr)
                + ", used=0x" + Long.toHexString(usedUserAddr) + ", avail=0x" + Long.toHexString(availUserAddr)
                + ", log=0x" + Long.toHexString(logGuestAddr) + "]";
    }
}
