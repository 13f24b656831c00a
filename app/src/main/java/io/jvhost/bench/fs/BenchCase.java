package io.jvhost.bench.fs;

import java.util.List;

/** A case of the bench: its name, how its units are shown, and its workload on a target. */
record BenchCase(String name, String unit, double unitsPerShown, Factory factory) {
    @FunctionalInterface
    interface Factory {
        Workload create(Target t, int depth);
    }

    private static final double MIB = 1 << 20;

    /** Every case, in the order they run and are printed. */
    static List<BenchCase> all() {
        return List.of(
                new BenchCase("GETATTR", "ops/s", 1, (t, d) -> new MetadataWorkloads.Getattr(t)),
                new BenchCase("LOOKUP (existing name)", "ops/s", 1, (t, d) -> new MetadataWorkloads.Lookup(t)),
                new BenchCase(
                        "CREATE + RELEASE (empty file)",
                        "files/s",
                        1,
                        (t, d) -> new MetadataWorkloads.CreateRelease(t)),
                new BenchCase(
                        "READ 128 KiB sequential", "MiB/s", MIB, (t, d) -> new DataWorkloads.Read(t, 128 << 10, d)),
                new BenchCase("READ 1 MiB sequential", "MiB/s", MIB, (t, d) -> new DataWorkloads.Read(t, 1 << 20, d)),
                new BenchCase(
                        "WRITE 128 KiB sequential", "MiB/s", MIB, (t, d) -> new DataWorkloads.Write(t, 128 << 10)),
                new BenchCase("WRITE 1 MiB sequential", "MiB/s", MIB, (t, d) -> new DataWorkloads.Write(t, 1 << 20)),
                new BenchCase("READDIRPLUS 1000 entries", "listings/s", 1, ReaddirplusWorkload::new));
    }
}
