package dev.instaflow.engine.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Damages TorchScript archives (zip files) the ways QA did: records made shorter with a correct CRC, and bits
 * flipped in place with the CRC left stale.
 */
public final class TorchArchives {
    private TorchArchives() {
    }

    /** One stored entry: its name, the offset of its data in the file, and its length. */
    public record Record(String name, long dataOffset, long length) {
    }

    /** The entries of a stored (uncompressed) zip, read from its local headers, in file order. */
    public static List<Record> records(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            List<Record> out = new ArrayList<>();
            int pos = 0;
            while (pos + 30 <= bytes.length && b.getInt(pos) == 0x04034b50) {
                int flags = Short.toUnsignedInt(b.getShort(pos + 6));
                long size = Integer.toUnsignedLong(b.getInt(pos + 18));
                int nameLength = Short.toUnsignedInt(b.getShort(pos + 26));
                int extraLength = Short.toUnsignedInt(b.getShort(pos + 28));
                String name = new String(bytes, pos + 30, nameLength, java.nio.charset.StandardCharsets.UTF_8);
                long data = pos + 30L + nameLength + extraLength;
                if ((flags & 8) != 0 || size == 0xFFFFFFFFL) {
                    throw new IllegalStateException("data descriptors and zip64 are not supported here");
                }
                out.add(new Record(name, data, size));
                pos = (int) (data + size);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The largest record whose name contains {@code "/data/"} (a tensor storage). */
    public static Record largestTensorRecord(Path file) {
        return records(file).stream().filter(r -> r.name().contains("/data/"))
                .max(Comparator.comparingLong(Record::length)).orElseThrow();
    }

    /** Flips one bit of {@code record}'s data in place: the zip stays readable, its CRC is now wrong. */
    public static void flipBit(Path file, Record record, long byteInRecord, int bit) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            int at = Math.toIntExact(record.dataOffset() + byteInRecord);
            bytes[at] ^= (byte) (1 << bit);
            Files.delete(file); // the file may be a hard link to a pristine copy
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes the archive again with {@code entry}'s bytes replaced by {@code edit}'s result, all entries stored and
     * with correct CRCs (a valid zip whose record is simply different).
     */
    public static void rewrite(Path file, String entry, UnaryOperator<byte[]> edit) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (ZipFile zip = new ZipFile(file.toFile()); ZipOutputStream z = new ZipOutputStream(out)) {
                for (ZipEntry e : Collections.list(zip.entries())) {
                    byte[] data;
                    try (var in = zip.getInputStream(e)) {
                        data = in.readAllBytes();
                    }
                    if (e.getName().equals(entry)) {
                        data = edit.apply(data);
                    }
                    ZipEntry copy = new ZipEntry(e.getName());
                    copy.setMethod(ZipEntry.STORED);
                    copy.setSize(data.length);
                    copy.setCompressedSize(data.length);
                    CRC32 crc = new CRC32();
                    crc.update(data);
                    copy.setCrc(crc.getValue());
                    z.putNextEntry(copy);
                    z.write(data);
                    z.closeEntry();
                }
            }
            Files.delete(file);
            try (OutputStream o = Files.newOutputStream(file)) {
                out.writeTo(o);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
