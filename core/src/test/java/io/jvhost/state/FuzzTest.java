package io.jvhost.state;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * 20 000 seeded mutations of valid blobs, each loaded by a new reader, an old reader and
 * describe(): the only acceptable outcomes are a clean load or a StateFormatException. Half the
 * mutants get a recomputed end marker, so they reach the structure and loader checks instead of
 * stopping at the checksum.
 */
class FuzzTest {
    static final long SEED = 0x5EED_57A7EL;
    static final int MUTANTS = 20_000;
    static final byte[] INTERESTING = {0, 1, (byte) 0x7F, (byte) 0x80, (byte) 0xFF, 'S', 's', 'D', 'E', 'Z'};

    @Test
    void mutatedBlobsLoadOrFailWithTheFormatExceptionOnly() throws IOException {
        byte[][] seeds = {
            SampleFs.save(SampleFs.sample(new Random(1), 10, true, true), 2),
            SampleFs.save(SampleFs.sample(new Random(2), 3, false, true), 2),
            SampleFs.save(SampleFs.sample(new Random(3), 6, false, false), 1),
        };
        StateReader[] readers = {SampleFs.reader(2), SampleFs.reader(1)};
        TreeMap<String, Integer> outcomes = new TreeMap<>();
        Random rnd = new Random(SEED);
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            for (int i = 0; i < MUTANTS; i++) {
                byte[] mutant = mutate(rnd, seeds[rnd.nextInt(seeds.length)], seeds[rnd.nextInt(seeds.length)]);
                if (rnd.nextBoolean()) {
                    fixEndMarker(mutant);
                }
                for (StateReader r : readers) {
                    outcomes.merge(
                            outcome(i, mutant, () -> r.readAll(new ByteArrayInputStream(mutant))), 1, Integer::sum);
                }
                outcome(i, mutant, () -> StateReader.describe(new ByteArrayInputStream(mutant)));
            }
        });
        StringBuilder report = new StringBuilder("fuzz outcomes (" + MUTANTS + " mutants x 2 readers):");
        outcomes.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .forEach(e -> report.append(String.format("%n%7d  %s", e.getValue(), e.getKey())));
        System.out.println(report);
        assertTrue(outcomes.getOrDefault("loaded", 0) > 100, "few mutants reached a successful load: " + outcomes);
        assertTrue(outcomes.size() > 15, "mutants exercised few distinct failures: " + outcomes);
    }

    interface Load {
        Object run() throws IOException;
    }

    /** "loaded", or the failure's message with numbers blanked out, to tally which checks fired. */
    static String outcome(int i, byte[] mutant, Load load) {
        try {
            load.run();
            return "loaded";
        } catch (StateFormatException e) {
            String m = e.getMessage();
            return m.substring(m.indexOf(": ") + 2)
                    .replaceAll("'[^']*'", "'_'")
                    .replaceAll("0x[0-9a-f]+", "0x_")
                    .replaceAll("[0-9a-f]{8}", "_")
                    .replaceAll("\\d+", "N");
        } catch (Throwable t) {
            fail("mutant " + i + " (seed " + SEED + ") threw " + t + " for blob " + Arrays.toString(mutant), t);
            return null;
        }
    }

    static byte[] mutate(Random rnd, byte[] blob, byte[] other) {
        byte[] b = blob.clone();
        int n = b.length;
        switch (rnd.nextInt(8)) {
            case 0 -> {
                for (int k = rnd.nextInt(1, 9); k > 0; k--) {
                    b[rnd.nextInt(n)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> {
                for (int k = rnd.nextInt(1, 4); k > 0; k--) {
                    b[rnd.nextInt(n)] =
                            rnd.nextBoolean() ? INTERESTING[rnd.nextInt(INTERESTING.length)] : (byte) rnd.nextInt(256);
                }
            }
            case 2 -> {
                int at = rnd.nextInt(n - 4);
                long v = switch (rnd.nextInt(5)) {
                    case 0 -> 0xFFFF_FFFFL;
                    case 1 -> 0x7FFF_FFFFL;
                    case 2 -> Wire.MAX_DATA_FRAME;
                    case 3 -> Wire.MAX_DATA_FRAME + 1L;
                    default -> rnd.nextInt();
                };
                for (int k = 0; k < 4; k++) {
                    b[at + k] = (byte) (v >>> (8 * k));
                }
            }
            case 3 -> {
                byte[] ins = new byte[rnd.nextInt(1, 16)];
                rnd.nextBytes(ins);
                b = splice(b, rnd.nextInt(n), 0, ins);
            }
            case 4 -> {
                int at = rnd.nextInt(n);
                b = splice(b, at, rnd.nextInt(1, Math.min(32, n - at) + 1), new byte[0]);
            }
            case 5 -> {
                int from = rnd.nextInt(n);
                int len = rnd.nextInt(1, Math.min(64, n - from) + 1);
                b = splice(b, rnd.nextInt(n), 0, Arrays.copyOfRange(b, from, from + len));
            }
            case 6 -> b = Arrays.copyOf(b, rnd.nextInt(n));
            default -> {
                int cut = rnd.nextInt(n);
                int from = rnd.nextInt(other.length);
                b = splice(Arrays.copyOf(b, cut), cut, 0, Arrays.copyOfRange(other, from, other.length));
            }
        }
        return b;
    }

    static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        byte[] out = new byte[b.length - remove + insert.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(insert, 0, out, at, insert.length);
        System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
        return out;
    }

    /** Makes the end marker consistent with the mutated bytes before it, as a forger would. */
    static void fixEndMarker(byte[] b) {
        int z = b.length - 13;
        if (z < 0 || b[z] != 'Z') {
            return;
        }
        for (int k = 0; k < 8; k++) {
            b[z + 1 + k] = (byte) ((long) z >>> (8 * k));
        }
        CRC32C crc = new CRC32C();
        crc.update(b, 0, z + 9);
        long v = crc.getValue();
        for (int k = 0; k < 4; k++) {
            b[z + 9 + k] = (byte) (v >>> (8 * k));
        }
    }
}
