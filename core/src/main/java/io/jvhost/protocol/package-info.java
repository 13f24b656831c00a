/**
 * The vhost-user wire format (QEMU docs/interop/vhost-user.rst), for both roles.
 *
 * <ul>
 *   <li>{@link io.jvhost.protocol.Header}, {@link io.jvhost.protocol.FrontendRequest},
 *       {@link io.jvhost.protocol.BackendRequest}: the 12-byte header and the request tables
 *       (payload size range, fd count range, {@link io.jvhost.protocol.ReplyRule}).
 *   <li>{@link io.jvhost.protocol.FrontendMessage}, {@link io.jvhost.protocol.BackendMessage},
 *       {@link io.jvhost.protocol.Reply}: sealed hierarchies of immutable records, one per
 *       message, so handlers dispatch with exhaustive switches. Records own the fds they carry
 *       ({@link io.jvhost.protocol.CarriesFds#closeFds()}).
 *   <li>{@link io.jvhost.protocol.MessageCodec}: encode to bytes + fds, decode with full
 *       validation; failures are {@link io.jvhost.protocol.ProtocolException}s and never leak fds.
 *   <li>{@link io.jvhost.protocol.Connection}: framed send/receive over a Unix socket, one class
 *       for both channels and both ends, typed by the {@link io.jvhost.protocol.Direction} its
 *       requests travel in.
 * </ul>
 *
 * <p>A back-end loop: {@code receive()} on a {@code Connection} of {@code Direction.FRONTEND},
 * switch over the message, and when {@code request().replyRule().replyExpected(needsReply, protocolFeatures, postcopy)} holds,
 * {@code sendReply(request, reply)} with one of {@code MessageCodec.replyTypes(request)}. A
 * front-end: {@code call(message, needReply)} for requests that get a reply, {@code send} for
 * the others.
 */
package io.jvhost.protocol;
