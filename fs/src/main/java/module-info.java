/**
 * The virtio-fs device. {@code devices.fs} serves FUSE over a virtqueue, {@code fs.api} is the
 * file-system interface a file system implements, {@code fs.passthrough} the host-directory file
 * system with its migration state ({@code .virtiofsd}: virtiofsd's state wire format), {@code fs.fuse} the FUSE wire codec, {@code fs.client} the
 * guest's side of FUSE (for tests, benches and tools that drive the device without a VM).
 */
module io.jvhost.fs {
    requires transitive io.jvhost.core;

    exports io.jvhost.devices.fs;
    exports io.jvhost.devices.fs.api;
    exports io.jvhost.devices.fs.passthrough;
    exports io.jvhost.devices.fs.idmap;
    exports io.jvhost.devices.fs.passthrough.virtiofsd;
    exports io.jvhost.devices.fs.fuse;
    exports io.jvhost.devices.fs.client;
}
