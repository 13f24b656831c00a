package io.jvhost.protocol;

import java.util.Optional;

/** SET_DEVICE_STATE_FD transfer direction (spec "Device state transfer parameters"). */
public enum DeviceStateDirection {
    /** Back-end → front-end, on the migration source. */
    SAVE(0),
    /** Front-end → back-end, on the migration destination. */
    LOAD(1);

    private final int code;

    DeviceStateDirection(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static Optional<DeviceStateDirection> of(int code) {
        for (DeviceStateDirection d : values()) if (d.code == code) return Optional.of(d);
        return Optional.empty();
    }
}
