package dev.instaflow.engine.runtime;

import dev.instaflow.engine.testing.SharedFixtures;
import dev.instaflow.engine.testing.TorchArchives;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The record-length check must understand the pickles real parts have: if {@link PickleStorages} gave up on them,
 * the check would silently do nothing. Every storage the fixture parts declare must map to a record of exactly its
 * size, and every tensor record must be declared.
 */
class ArchiveIntegrityTest {
    @Test
    void thePicklesOfTracedPartsAreUnderstoodAndMatchTheirRecords() throws IOException {
        for (String part : new String[] {"text_encoder.pt", "unet.pt", "vae_decoder.pt"}) {
            Path file = SharedFixtures.tinySd15().resolve("torchscript").resolve(part);
            String prefix;
            byte[] pickle;
            try (ZipFile zip = new ZipFile(file.toFile())) {
                var entry = zip.stream().filter(e -> e.getName().endsWith("/data.pkl")).findFirst().orElseThrow();
                prefix = entry.getName().substring(0, entry.getName().length() - "data.pkl".length());
                pickle = zip.getInputStream(entry).readAllBytes();
            }
            List<PickleStorages.Storage> storages = PickleStorages.read(pickle).orElseThrow(
                    () -> new AssertionError(part + ": data.pkl not understood"));
            assertFalse(storages.isEmpty(), part);
            Map<String, Long> records = TorchArchives.records(file).stream()
                    .filter(r -> r.name().startsWith(prefix + "data/"))
                    .collect(Collectors.toMap(TorchArchives.Record::name, TorchArchives.Record::length));
            for (PickleStorages.Storage s : storages) {
                assertTrue(s.itemSize() > 0, s.className());
                assertEquals(s.numel() * s.itemSize(), records.get(prefix + "data/" + s.key()), part + " " + s);
            }
            assertEquals(records.size(), storages.stream().map(PickleStorages.Storage::key).distinct().count(), part);
            ArchiveIntegrity.checkArchive(file, "parts.x"); // and the whole check passes
        }
    }
}
