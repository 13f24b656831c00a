/**
 * The vhost-user core: what every device and every front-end needs. The wire protocol, the
 * virtqueues, the back-end server with its device SPI, the front-end client with its guest-driver
 * model, and the device-state format are the API. The native layer is internal: only jvhost's own
 * modules read it, through a qualified export.
 */
module io.jvhost.core {
    requires transitive org.slf4j;

    exports io.jvhost.protocol;
    exports io.jvhost.memory;
    exports io.jvhost.virtqueue;
    exports io.jvhost.backend;
    exports io.jvhost.frontend;
    exports io.jvhost.state;
    exports io.jvhost.nativeio to
            io.jvhost.migration,
            io.jvhost.fs,
            io.jvhost.app,
            io.jvhost.testkit;
}
