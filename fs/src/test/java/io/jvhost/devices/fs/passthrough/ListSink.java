package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.DirEntry;
import io.jvhost.devices.fs.api.DirSink;
import io.jvhost.devices.fs.api.Entry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A READDIR(PLUS) reply buffer with room for a fixed number of entries. */
final class ListSink implements DirSink {
    record Item(DirEntry entry, Entry node) {
        String name() {
            return new String(entry.name(), StandardCharsets.UTF_8);
        }
    }

    private final int capacity;
    final List<Item> items = new ArrayList<>();
    int refused;

    ListSink(int capacity) {
        this.capacity = capacity;
    }

    @Override
    public boolean add(DirEntry entry) {
        return addPlus(entry, null);
    }

    @Override
    public boolean addPlus(DirEntry entry, Entry node) {
        if (items.size() >= capacity) {
            refused++;
            return false;
        }
        items.add(new Item(entry, node));
        return true;
    }

    List<String> names() {
        return items.stream().map(Item::name).toList();
    }

    long lastOffset() {
        return items.getLast().entry().nextOffset();
    }
}
