package io.jvhost.nativeio;

import java.util.Set;

/** Linux capabilities (include/uapi/linux/capability.h) a daemon may keep; the bit is the capability's number. */
public enum Capability {
    CHOWN(0),
    DAC_OVERRIDE(1),
    DAC_READ_SEARCH(2),
    FOWNER(3),
    FSETID(4),
    SETGID(6),
    SETUID(7),
    SETPCAP(8),
    MKNOD(27),
    SETFCAP(31);

    public final int number;

    Capability(int number) {
        this.number = number;
    }

    /** The capability set as the kernel's 64-bit mask (the CapEff line of /proc/PID/status). */
    public static long mask(Set<Capability> caps) {
        long m = 0;
        for (Capability c : caps) m |= 1L << c.number;
        return m;
    }
}
