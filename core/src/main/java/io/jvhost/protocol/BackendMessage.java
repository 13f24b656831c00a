package io.jvhost.protocol;

import io.jvhost.nativeio.Fd;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * Every request a back-end sends over the back-end channel (ids 1–8), one immutable record each,
 * so a front-end can dispatch with an exhaustive {@code switch}.
 */
public sealed interface BackendMessage extends Message<BackendRequest> {
    /** From {@link BackendRequest}'s table, which names each request's record. */
    @Override
    default BackendRequest request() {
        return Direction.BACKEND.requestOf(this);
    }

    /** IOTLB miss or access failure. */
    record IotlbMsg(Iotlb entry) implements BackendMessage {
        public IotlbMsg {
            Objects.requireNonNull(entry, "entry");
        }
    }

    /** The device's config space changed; the front-end may re-read it with GET_CONFIG. */
    record ConfigChange() implements BackendMessage {}

    /**
     * Map {@code size} bytes at {@code offset} of {@code fd} as ring {@code index}'s notify area;
     * without an fd (bit 8 of the u64), remove the current notifier. The index has bits 0–7.
     */
    record VringHostNotifier(int index, long size, long offset, Optional<Fd> fd) implements BackendMessage {
        public VringHostNotifier {
            Checks.unsignedByte("vring index", index);
            Checks.optionalFd(fd);
        }

        public List<Fd> fds() {
            return fd.map(List::of).orElse(List.of());
        }
    }

    /** In-band used-buffer notification; the vring state's num is reserved and ignored. */
    record VringCall(int index) implements BackendMessage {
        public VringCall {
            Checks.vringIndex(index);
        }
    }

    record VringErr(int index) implements BackendMessage {
        public VringErr {
            Checks.vringIndex(index);
        }
    }

    record SharedObjectAdd(UUID uuid) implements BackendMessage {
        public SharedObjectAdd {
            Objects.requireNonNull(uuid, "uuid");
        }
    }

    record SharedObjectRemove(UUID uuid) implements BackendMessage {
        public SharedObjectRemove {
            Objects.requireNonNull(uuid, "uuid");
        }
    }

    record SharedObjectLookup(UUID uuid) implements BackendMessage {
        public SharedObjectLookup {
            Objects.requireNonNull(uuid, "uuid");
        }
    }
}
