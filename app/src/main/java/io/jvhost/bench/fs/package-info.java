/**
 * {@code jvhost bench-fs}: jvhost's virtio-fs back-end measured next to virtiofsd, in one run,
 * through the guest-driver model (no VM), with several requests in flight.
 */
package io.jvhost.bench.fs;
