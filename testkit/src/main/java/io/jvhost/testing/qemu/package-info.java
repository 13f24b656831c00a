/**
 * Test harness that boots real QEMU 10 guests (q35, TCG) against vhost-user back-ends.
 *
 * <ul>
 *   <li>{@link io.jvhost.testing.qemu.QemuTest @QemuTest}: tags a class {@code qemu} and injects a
 *       {@link io.jvhost.testing.qemu.TestRun} per test (logs in
 *       {@code target/qemu-tests/<Class>.<method>/}, sockets in a short temp dir, every process
 *       stopped after the test, and killed by the kernel if the JVM dies);</li>
 *   <li>{@link io.jvhost.testing.qemu.QemuGuest}: builder + {@code awaitSerialLine}, {@code qmp()};</li>
 *   <li>{@link io.jvhost.testing.qemu.Qmp}: QMP client ({@code execute}, {@code migrate}, events);</li>
 *   <li>{@link io.jvhost.testing.qemu.Virtiofsd}: the reference virtiofsd;</li>
 *   <li>{@link io.jvhost.testing.qemu.TestDeps}: where QEMU, the guest kernel and virtiofsd are
 *       ({@code JVHOST_DEPS}); missing ones fail the test with the install hint, never skip it;</li>
 *   <li>guest scenarios: {@code testkit/src/main/resources/guest/README.md}.</li>
 * </ul>
 *
 * <pre>{@code
 * @QemuTest
 * class VhostUserRngTest {
 *     @Test
 *     void guestReadsOurRng(TestRun run) {
 *         Path sock = run.socket("rng");
 *         ManagedProcess backend = run.processes().startJava("jvhost-rng", "io.jvhost.cli.Main",
 *                 List.of(), List.of("rng", "--socket-path", sock.toString()));
 *         UnixSockets.awaitSocketFile(sock, Duration.ofSeconds(20), backend);
 *         QemuGuest vm = QemuGuest.builder(run, "vm")
 *                 .vhostUser("vhost-user-rng-pci", sock).watch(backend)
 *                 .scenario("rng").kernelArg("rng_bytes", 65536)
 *                 .start();
 *         MatchResult ok = vm.awaitSerialLine("^RNG-OK bytes=65536 sha=(\\S+)", Duration.ofSeconds(120));
 *         assertEquals(0, vm.awaitExit(Duration.ofSeconds(30)));
 *     }
 * }
 * }</pre>
 *
 * An in-JVM back-end instead: start it listening on {@code run.socket(...)} before
 * {@code start()}, and {@code run.register(backend)} so it is closed after the test.
 */
package io.jvhost.testing.qemu;
