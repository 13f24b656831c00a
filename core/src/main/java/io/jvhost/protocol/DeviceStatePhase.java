package io.jvhost.protocol;

import java.util.Optional;

/**
 * SET_DEVICE_STATE_FD migration phase. Only STOPPED exists today; the spec says more may come
 * (iterative migration), which is why messages keep the raw number and a back-end answers an
 * unknown phase with an error reply rather than failing to decode.
 */
public enum DeviceStatePhase {
    /** Guest stopped, device suspended (all rings stopped). */
    STOPPED(0);

    private final int code;

    DeviceStatePhase(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static Optional<DeviceStatePhase> of(int code) {
        for (DeviceStatePhase p : values()) if (p.code == code) return Optional.of(p);
        return Optional.empty();
    }
}
