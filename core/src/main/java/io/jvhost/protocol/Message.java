package io.jvhost.protocol;

/**
 * A request of either direction: a {@link FrontendMessage} (front-end → back-end) or a
 * {@link BackendMessage} (back-end → front-end on the back-end channel). Code that works the same
 * for both, such as {@link Connection} and {@link MessageCodec}, is written once over this type.
 */
public sealed interface Message<R extends Request> extends CarriesFds permits FrontendMessage, BackendMessage {
    /** This message's request type. */
    R request();
}
