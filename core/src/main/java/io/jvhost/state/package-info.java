/**
 * Versioned, self-describing binary format for a vhost-user back-end's internal state, as moved by
 * {@code VHOST_USER_PROTOCOL_F_DEVICE_STATE} (written into a pipe on the source, read to EOF on
 * the destination). The byte layout is specified in {@code docs/state-format.md}.
 *
 * <p>Saving: {@link io.jvhost.state.StateWriter} streams sections and subsections to an
 * {@code OutputStream}. Loading is two-phase: {@link io.jvhost.state.StateReader#readAll} parses
 * and validates the whole blob into staging values built by the device's
 * {@link io.jvhost.state.SectionLoader}s and returns them as a {@link io.jvhost.state.LoadedState}
 * only once the end marker and checksum checked out; the device applies that afterwards, so a
 * corrupt or truncated blob never touches the state it had before.
 */
package io.jvhost.state;
