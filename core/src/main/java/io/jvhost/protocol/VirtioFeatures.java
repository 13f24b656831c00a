package io.jvhost.protocol;

import java.util.Map;
import java.util.TreeMap;

/**
 * Virtio device-independent feature bits exchanged by GET/SET_FEATURES that matter to a
 * vhost-user implementation (virtio 1.2 §6 "Reserved Feature Bits", plus the two bits vhost
 * itself reuses: 26 VHOST_F_LOG_ALL and 30 VHOST_USER_F_PROTOCOL_FEATURES). Device-specific
 * bits (0–23) belong to the device.
 */
public final class VirtioFeatures {
    public static final int NOTIFY_ON_EMPTY = 24;
    public static final int ANY_LAYOUT = 27;
    /** VHOST_F_LOG_ALL: the front-end asks for dirty-page logging (migration). */
    public static final int LOG_ALL = 26;

    public static final int RING_INDIRECT_DESC = 28;
    public static final int RING_EVENT_IDX = 29;
    /** VHOST_USER_F_PROTOCOL_FEATURES: gates GET/SET_PROTOCOL_FEATURES; never offered to the guest. */
    public static final int PROTOCOL_FEATURES = 30;

    public static final int VERSION_1 = 32;
    /** Also known as VIRTIO_F_IOMMU_PLATFORM. */
    public static final int ACCESS_PLATFORM = 33;

    public static final int RING_PACKED = 34;
    public static final int IN_ORDER = 35;
    public static final int ORDER_PLATFORM = 36;
    public static final int SR_IOV = 37;
    public static final int NOTIFICATION_DATA = 38;
    public static final int NOTIF_CONFIG_DATA = 39;
    public static final int RING_RESET = 40;

    private static final Map<Integer, String> NAMES = new TreeMap<>(Map.ofEntries(
            Map.entry(NOTIFY_ON_EMPTY, "NOTIFY_ON_EMPTY"),
            Map.entry(LOG_ALL, "LOG_ALL"),
            Map.entry(ANY_LAYOUT, "ANY_LAYOUT"),
            Map.entry(RING_INDIRECT_DESC, "RING_INDIRECT_DESC"),
            Map.entry(RING_EVENT_IDX, "RING_EVENT_IDX"),
            Map.entry(PROTOCOL_FEATURES, "PROTOCOL_FEATURES"),
            Map.entry(VERSION_1, "VERSION_1"),
            Map.entry(ACCESS_PLATFORM, "ACCESS_PLATFORM"),
            Map.entry(RING_PACKED, "RING_PACKED"),
            Map.entry(IN_ORDER, "IN_ORDER"),
            Map.entry(ORDER_PLATFORM, "ORDER_PLATFORM"),
            Map.entry(SR_IOV, "SR_IOV"),
            Map.entry(NOTIFICATION_DATA, "NOTIFICATION_DATA"),
            Map.entry(NOTIF_CONFIG_DATA, "NOTIF_CONFIG_DATA"),
            Map.entry(RING_RESET, "RING_RESET")));

    private VirtioFeatures() {}

    public static long mask(int... bits) {
        long m = 0;
        for (int b : bits) {
            if (b < 0 || b > 63) throw new IllegalArgumentException("feature bit out of range: " + b);
            m |= 1L << b;
        }
        return m;
    }

    public static boolean has(long features, int bit) {
        return (features & mask(bit)) != 0;
    }

    /** "VERSION_1|PROTOCOL_FEATURES|bit3" style rendering for logs; unnamed bits by number. */
    public static String describe(long features) {
        StringBuilder sb = new StringBuilder();
        for (int b = 0; b < 64; b++) {
            if ((features & (1L << b)) == 0) continue;
            if (!sb.isEmpty()) sb.append('|');
            sb.append(NAMES.getOrDefault(b, "bit" + b));
        }
        return sb.isEmpty() ? "none" : sb.toString();
    }
}
