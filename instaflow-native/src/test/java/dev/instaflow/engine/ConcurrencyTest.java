package dev.instaflow.engine;

import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.InstaFlow;
import dev.instaflow.engine.testing.TinyBundle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.DataBufferByte;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** One model, several threads generating at once: each gets exactly the image it gets alone. */
class ConcurrencyTest {
    @TempDir
    Path temp;

    static byte[] pixels(Generation g) {
        return ((DataBufferByte) g.image().getRaster().getDataBuffer()).getData();
    }

    static GenerationRequest request(int i) {
        return GenerationRequest.builder().prompt(i % 2 == 0 ? "a photo of a cat" : "a red fox")
                .seed(1000 + i).steps(1 + i % 3).guidance(i % 4 == 0 ? 1.5 : 0.0).size(32, 32).build();
    }

    @Test
    void concurrentGenerationsMatchSequentialOnes() throws Exception {
        try (InstaFlow model = InstaFlow.load(TinyBundle.create(temp.resolve("tiny")), TestSettings.loadOptions())) {
            int requests = 12;
            List<byte[]> expected = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                expected.add(pixels(model.generate(request(i))));
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<byte[]>> futures = new ArrayList<>();
                for (int round = 0; round < 2; round++) {
                    for (int i = 0; i < requests; i++) {
                        int n = i;
                        futures.add(pool.submit(() -> pixels(model.generate(request(n)))));
                    }
                }
                for (int k = 0; k < futures.size(); k++) {
                    assertArrayEquals(expected.get(k % requests), futures.get(k).get(), "request " + (k % requests));
                }
                assertEquals(2 * requests, futures.size());
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
