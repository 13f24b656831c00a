/**
 * The migration stream: a main channel and N TCP state channels carrying a device's state in
 * indexed packets, and device migration between two back-ends driven through the front-end.
 */
module io.jvhost.migration {
    requires transitive io.jvhost.core;

    exports io.jvhost.migration;
    exports io.jvhost.migration.device;
}
