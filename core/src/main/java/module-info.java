/**
 * The vhost-user core: what every device and every front-end needs. The wire protocol, the
 * virtqueues, the back-end server with its device SPI, the front-end client with its guest-driver
 * model, and the device-state format are the API. The native layer and guest-memory internals are
 * not: only jvhost's own modules that need them read them, through qualified exports (a device
 * reads guest memory through its chains and {@code backend.GuestMemoryView}).
 */
module io.jvhost.core {
    requires transitive org.slf4j;

    exports io.jvhost.protocol;
    exports io.jvhost.virtqueue;
    exports io.jvhost.backend;
    exports io.jvhost.frontend;
    exports io.jvhost.state;
    exports io.jvhost.memory to
            io.jvhost.fs;
    exports io.jvhost.nativeio to
            io.jvhost.migration,
            io.jvhost.fs,
            io.jvhost.app,
            io.jvhost.testkit;
}
