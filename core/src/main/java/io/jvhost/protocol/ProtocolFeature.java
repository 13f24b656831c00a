package io.jvhost.protocol;

import java.util.EnumSet;
import java.util.Set;

/**
 * vhost-user protocol feature bits (spec "Protocol features"), negotiated with
 * GET/SET_PROTOCOL_FEATURES once virtio bit 30 ({@link VirtioFeatures#PROTOCOL_FEATURES}) is offered.
 *
 * <p>Masks from the peer may contain bits this enum does not know: {@link #setOf} drops them and
 * {@link #unknownBits} reports them, so a back-end acks only what it understands (offered ∧
 * requested) while a log can still show what the peer asked for.
 */
public enum ProtocolFeature {
    MQ(0),
    LOG_SHMFD(1),
    RARP(2),
    REPLY_ACK(3),
    MTU(4),
    /** Previously SLAVE_REQ. */
    BACKEND_REQ(5),
    CROSS_ENDIAN(6),
    CRYPTO_SESSION(7),
    PAGEFAULT(8),
    CONFIG(9),
    /** Previously SLAVE_SEND_FD. */
    BACKEND_SEND_FD(10),
    HOST_NOTIFIER(11),
    INFLIGHT_SHMFD(12),
    RESET_DEVICE(13),
    INBAND_NOTIFICATIONS(14),
    CONFIGURE_MEM_SLOTS(15),
    STATUS(16),
    XEN_MMAP(17),
    SHARED_OBJECT(18),
    DEVICE_STATE(19),
    /** Gates GET_SHMEM_CONFIG (44) and the SHMEM_MAP/UNMAP back-end messages. */
    SHMEM(20);

    /** Every bit this enum knows. */
    public static final long KNOWN_MASK = maskOf(EnumSet.allOf(ProtocolFeature.class));

    private final int bit;

    ProtocolFeature(int bit) {
        this.bit = bit;
    }

    public int bit() {
        return bit;
    }

    public long mask() {
        return 1L << bit;
    }

    public boolean isIn(long mask) {
        return (mask & mask()) != 0;
    }

    /** The known features set in {@code mask}; unknown bits are ignored. */
    public static EnumSet<ProtocolFeature> setOf(long mask) {
        EnumSet<ProtocolFeature> set = EnumSet.noneOf(ProtocolFeature.class);
        for (ProtocolFeature f : values()) if (f.isIn(mask)) set.add(f);
        return set;
    }

    public static long maskOf(Set<ProtocolFeature> features) {
        long m = 0;
        for (ProtocolFeature f : features) m |= f.mask();
        return m;
    }

    /** Bits of {@code mask} that no constant here names. */
    public static long unknownBits(long mask) {
        return mask & ~KNOWN_MASK;
    }

    /** "MQ|REPLY_ACK|0x800000000" style rendering for logs. */
    public static String describe(long mask) {
        StringBuilder sb = new StringBuilder();
        for (ProtocolFeature f : setOf(mask)) sb.append(sb.isEmpty() ? "" : "|").append(f.name());
        long unknown = unknownBits(mask);
        if (unknown != 0) sb.append(sb.isEmpty() ? "" : "|").append("0x").append(Long.toHexString(unknown));
        return sb.isEmpty() ? "none" : sb.toString();
    }
}
