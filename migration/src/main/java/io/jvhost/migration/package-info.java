/**
 * Moving one back-end's device state between hosts: a main channel (handshake, totals, verdict)
 * and N parallel state channels carrying indexed packets, reassembled in order by the destination
 * within a bounded window, with the virtio device state in the last (CONFIG_STATE) packet. Wire
 * format and rules: {@code docs/migration-stream.md}.
 *
 * <p>Entry points: {@link io.jvhost.migration.MigrationSource} and
 * {@link io.jvhost.migration.MigrationDestination}.
 */
package io.jvhost.migration;
