/**
 * Split virtqueues (virtio 1.x "Split Virtqueues"): the device side a back-end runs, and a
 * driver side that plays the guest in tests and benchmarks.
 *
 * <h2>Device side</h2>
 * One {@link io.jvhost.virtqueue.SplitQueue} per ring, built over the connection's
 * {@link io.jvhost.memory.MemoryTable} and {@link io.jvhost.memory.DirtyLog}. SET_VRING_NUM →
 * {@code setSize}; SET_VRING_BASE → {@code setBase}; SET_VRING_ADDR → {@code setAddresses}
 * (also on a running ring, to toggle VHOST_VRING_F_LOG); EVENT_IDX negotiated →
 * {@code setEventIdx}; first kick → {@code start()}; GET_VRING_BASE → {@code stop()}, whose
 * result is the reply. A worker then loops:
 * <pre>{@code
 * do {
 *     queue.disableNotification();
 *     DescriptorChain chain;
 *     while (true) {
 *         try { chain = queue.pop(); } catch (InvalidChainException e) { log(e); continue; }
 *         if (chain == null) break;
 *         long written = device.handle(chain);   // reader()/writer() or raw segments
 *         queue.addUsed(chain, written);         // logs what was written, publishes used->idx
 *     }
 * } while (queue.enableNotification());
 * if (queue.needsNotification()) call.signal();
 * }</pre>
 * Guest mistakes surface as checked exceptions only: {@link io.jvhost.virtqueue.InvalidChainException}
 * (one chain rejected and returned with length 0), {@link io.jvhost.virtqueue.BrokenQueueException}
 * (avail->idx ran away: the queue waits for a reset), {@link io.jvhost.virtqueue.VirtqueueException}
 * (rings not mapped right now, request too short).
 *
 * <h2>Driver side</h2>
 * {@link io.jvhost.virtqueue.DriverQueue} lays a ring out in memory we own
 * ({@link io.jvhost.virtqueue.DriverMemory}: our segment plus its guest-physical and front-end user
 * addresses), takes buffers from a {@link io.jvhost.virtqueue.BufferAllocator}, and gives the
 * values for SET_VRING_ADDR through {@link io.jvhost.virtqueue.DriverQueue#addresses}.
 */
package io.jvhost.virtqueue;
