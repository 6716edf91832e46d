package dev.instaflow.train.reflow;

import dev.instaflow.engine.runtime.Tensors;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Noise/end-point pairs {@code (X0, ODE[v](X0))} with the caption row each was generated for: the training set of
 * reflow and of distillation. Stored as a LibTorch archive (tensors {@code x0}, {@code x1}, {@code rows}).
 *
 * @param x0   noise {@code [N,C,h,w]}
 * @param x1   the teacher's ODE end points {@code [N,C,h,w]}
 * @param rows caption rows ({@link dev.instaflow.train.tokenizer.CaptionIds}) {@code int64 [N]}
 */
public record PairSet(Tensor x0, Tensor x1, Tensor rows) {
    public long size() {
        return x0.size(0);
    }

    public void save(Path file) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            // LibTorch names the archive's top folder after the file it writes, so the temporary file has the final
            // name (in a folder of its own): the bytes are then a function of the tensors alone, the same on every
            // run and machine, and concurrent writers of one file cannot collide.
            Path tmpDir = Files.createTempDirectory(dir, "." + file.getFileName() + ".");
            Path tmp = tmpDir.resolve(file.getFileName());
            try {
                OutputArchive archive = new OutputArchive();
                archive.write("x0", x0.contiguous());
                archive.write("x1", x1.contiguous());
                archive.write("rows", rows.contiguous());
                archive.save_to(tmp.toString());
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
                Files.deleteIfExists(tmpDir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not write pairs to " + file, e);
        }
    }

    public static PairSet load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no pair file at " + file);
        }
        InputArchive archive = new InputArchive();
        archive.load_from(file.toString());
        Tensor x0 = new Tensor();
        Tensor x1 = new Tensor();
        Tensor rows = new Tensor();
        archive.read("x0", x0);
        archive.read("x1", x1);
        archive.read("rows", rows);
        return new PairSet(x0, x1, rows);
    }

    /** The pairs of several sets, in order. */
    public static PairSet concat(List<PairSet> parts) {
        TensorVector a = new TensorVector();
        TensorVector b = new TensorVector();
        TensorVector r = new TensorVector();
        for (PairSet p : parts) {
            a.push_back(p.x0);
            b.push_back(p.x1);
            r.push_back(p.rows);
        }
        return new PairSet(torch.cat(a), torch.cat(b), torch.cat(r));
    }

    /** Caption rows as a Java array. */
    public long[] rowArray() {
        return Tensors.toLongs(rows);
    }
}
