package io.jvhost.devices.fs.api;

/** CREATE's answer: the new node (one lookup counted) and its open handle. */
public record Created(Entry entry, Opened opened) {}
