/**
 * Guest memory as a vhost-user back-end sees it, and the dirty-page log.
 *
 * <h2>Wiring (back-end)</h2>
 * <ul>
 *   <li>One {@link io.jvhost.memory.MemoryTable} per connection. SET_MEM_TABLE →
 *       {@link io.jvhost.memory.MemoryTable#replaceAll}; ADD_MEM_REG → {@link io.jvhost.memory.MemoryTable#add(RegionDescriptor, io.jvhost.nativeio.Fd)};
 *       REM_MEM_REG → {@link io.jvhost.memory.MemoryTable#remove} (matched by guest address,
 *       size and user address); GET_MAX_MEM_SLOTS → {@link io.jvhost.memory.MemoryTable#maxSlots()}.
 *       The table only maps the fds; the caller closes them afterwards.</li>
 *   <li>One {@link io.jvhost.memory.DirtyLog} per connection. SET_FEATURES →
 *       {@link io.jvhost.memory.DirtyLog#setEnabled} with VHOST_F_LOG_ALL (bit 26);
 *       SET_LOG_BASE → {@link io.jvhost.memory.DirtyLog#setBase} (then reply 0 with LOG_SHMFD).</li>
 *   <li>Workers read {@link io.jvhost.memory.MemoryTable#current()} (lock-free) or hand the table
 *       to a {@link io.jvhost.virtqueue.SplitQueue}, which follows it by itself.</li>
 * </ul>
 *
 * <p>Reads get read-only segments; writes only through {@link io.jvhost.memory.LoggedSegment},
 * which marks the dirty log. Addresses are unsigned 64-bit values in longs; every translation is
 * bounds-checked and fails with the checked {@link io.jvhost.memory.GuestMemoryException}.
 */
package io.jvhost.memory;
