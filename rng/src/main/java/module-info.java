/**
 * The virtio-rng device, as a library user writes a device: it requires the core and sees only
 * what the core exports (the native layer is not exported to it). See docs/writing-a-device.md.
 */
module io.jvhost.rng {
    requires transitive io.jvhost.core;

    exports io.jvhost.devices.rng;
}
