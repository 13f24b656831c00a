package io.jvhost.nativeio;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SchedulingTest {
    @Test
    void anIdleThreadAndTheThreadsItCreatesRunAtSchedIdleAndNoOtherThreadDoes() throws Exception {
        AtomicReference<Object> self = new AtomicReference<>(), child = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                Scheduling.idleThisThread();
                self.set(Scheduling.isIdle());
                Thread c = Thread.ofPlatform().start(() -> {
                    try {
                        child.set(Scheduling.isIdle());
                    } catch (NativeException e) {
                        child.set(e);
                    }
                });
                c.join();
            } catch (NativeException | InterruptedException e) {
                self.set(e);
            }
        });
        t.join();
        assertTrue(Boolean.TRUE.equals(self.get()), "the thread itself: " + self.get());
        assertTrue(Boolean.TRUE.equals(child.get()), "a thread it created: " + child.get());
        assertFalse(Scheduling.isIdle(), "the test's own thread keeps its policy");
    }
}
