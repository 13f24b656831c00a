package io.jvhost.devices.fs.api;

/** Attributes plus how long the guest may cache them (GETATTR, SETATTR). */
public record AttrReply(Attr attr, long attrTimeoutNanos) {}
