package io.jvhost.backend;

import java.time.Duration;

/**
 * How the back-end runs device-state transfers.
 *
 * @param backendChannel answer SET_DEVICE_STATE_FD with a pipe of our own (the spec lets the
 *                       back-end replace the front-end's channel by a more efficient one): the
 *                       state is then vmspliced into it when saving. Off by default: the plain
 *                       path uses the front-end's fd as it is.
 * @param pipeCapacity   the capacity asked for our own pipe (F_SETPIPE_SZ; above
 *                       /proc/sys/fs/pipe-max-size an unprivileged process is refused)
 * @param checkTimeout   how long CHECK_DEVICE_STATE waits for a transfer that has not ended
 */
public record DeviceStateOptions(boolean backendChannel, int pipeCapacity, Duration checkTimeout) {
    public DeviceStateOptions {
        if (pipeCapacity < 4096) throw new IllegalArgumentException("pipe capacity below one page: " + pipeCapacity);
        if (checkTimeout.isNegative() || checkTimeout.isZero())
            throw new IllegalArgumentException("check timeout must be positive");
    }

    public static DeviceStateOptions defaults() {
        return new DeviceStateOptions(false, 1 << 20, Duration.ofSeconds(30));
    }

    public DeviceStateOptions withBackendChannel(boolean on) {
        return new DeviceStateOptions(on, pipeCapacity, checkTimeout);
    }

    public DeviceStateOptions withCheckTimeout(Duration timeout) {
        return new DeviceStateOptions(backendChannel, pipeCapacity, timeout);
    }
}
