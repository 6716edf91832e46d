package dev.instaflow.engine.runtime;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tensor storages a TorchScript archive's {@code data.pkl} declares: for each, the record key, the storage class
 * ({@code FloatStorage}, ...) and the element count. A pickle is a small stack program; this runs the subset of
 * opcodes (protocols 2 to 5) that pickles of tensors use, keeps every other value opaque and collects the arguments
 * of each persistent id {@code ('storage', <class>, key, location, numel)}. Anything unexpected (an unknown opcode, a
 * truncated stream) gives {@link Optional#empty()}: the caller then falls back to its other checks, so this never
 * refuses a file it does not understand.
 */
final class PickleStorages {
    /** One storage a pickle refers to. */
    record Storage(String key, String className, long numel) {
        /** Bytes per element of the storage class, or -1 when the class is not known. */
        long itemSize() {
            return switch (className) {
                case "DoubleStorage", "LongStorage", "ComplexFloatStorage" -> 8;
                case "FloatStorage", "IntStorage", "QInt32Storage" -> 4;
                case "HalfStorage", "BFloat16Storage", "ShortStorage" -> 2;
                case "CharStorage", "ByteStorage", "BoolStorage", "QInt8Storage", "QUInt8Storage" -> 1;
                case "ComplexDoubleStorage" -> 16;
                default -> -1;
            };
        }
    }

    private record Global(String module, String name) {
    }

    private static final Object MARK = new Object();
    private static final Object OPAQUE = new Object();

    private PickleStorages() {
    }

    static Optional<List<Storage>> read(byte[] pickle) {
        try {
            return Optional.ofNullable(run(ByteBuffer.wrap(pickle).order(ByteOrder.LITTLE_ENDIAN)));
        } catch (RuntimeException malformed) {
            return Optional.empty();
        }
    }

    private static List<Storage> run(ByteBuffer in) {
        Deque<Object> stack = new ArrayDeque<>();
        Map<Long, Object> memo = new HashMap<>();
        List<Storage> storages = new ArrayList<>();
        while (true) {
            int op = Byte.toUnsignedInt(in.get());
            switch (op) {
                case 0x80 -> in.get(); // PROTO
                case 0x95 -> in.getLong(); // FRAME
                case '(' -> stack.push(MARK);
                case '.' -> {
                    return storages;
                }
                case 'K' -> stack.push((long) Byte.toUnsignedInt(in.get()));
                case 'M' -> stack.push((long) Short.toUnsignedInt(in.getShort()));
                case 'J' -> stack.push((long) in.getInt());
                case 0x8a -> stack.push(littleEndianInteger(bytes(in, Byte.toUnsignedInt(in.get()))));
                case 0x8b -> stack.push(littleEndianInteger(bytes(in, in.getInt())));
                case 'G' -> {
                    in.order(ByteOrder.BIG_ENDIAN);
                    in.getDouble();
                    in.order(ByteOrder.LITTLE_ENDIAN);
                    stack.push(OPAQUE);
                }
                case 'X' -> stack.push(new String(bytes(in, in.getInt()), StandardCharsets.UTF_8));
                case 0x8c -> stack.push(new String(bytes(in, Byte.toUnsignedInt(in.get())), StandardCharsets.UTF_8));
                case 0x8d -> stack.push(new String(bytes(in, Math.toIntExact(in.getLong())), StandardCharsets.UTF_8));
                case 'T', 'B' -> {
                    bytes(in, in.getInt());
                    stack.push(OPAQUE);
                }
                case 'U', 'C' -> {
                    bytes(in, Byte.toUnsignedInt(in.get()));
                    stack.push(OPAQUE);
                }
                case 0x8e -> {
                    bytes(in, Math.toIntExact(in.getLong()));
                    stack.push(OPAQUE);
                }
                case 'N', 0x88, 0x89 -> stack.push(OPAQUE);
                case ')' -> stack.push(List.of());
                case 't' -> stack.push(popToMark(stack));
                case 0x85 -> stack.push(List.of(pop(stack)));
                case 0x86 -> {
                    Object b = pop(stack);
                    stack.push(List.of(pop(stack), b));
                }
                case 0x87 -> {
                    Object c = pop(stack);
                    Object b = pop(stack);
                    stack.push(List.of(pop(stack), b, c));
                }
                case ']', '}' -> stack.push(OPAQUE);
                case 'a' -> pop(stack); // APPEND: the list stays
                case 's' -> {
                    pop(stack);
                    pop(stack);
                }
                case 'e', 'u' -> popToMark(stack); // APPENDS, SETITEMS
                case 'c' -> stack.push(new Global(line(in), line(in)));
                case 0x93 -> {
                    Object name = pop(stack);
                    stack.push(new Global(String.valueOf(pop(stack)), String.valueOf(name)));
                }
                case 'R', 0x81 -> { // REDUCE, NEWOBJ
                    pop(stack);
                    pop(stack);
                    stack.push(OPAQUE);
                }
                case 'b' -> pop(stack); // BUILD: the object stays
                case 'Q' -> {
                    storage(pop(stack)).ifPresent(storages::add);
                    stack.push(OPAQUE);
                }
                case 'q' -> memo.put((long) Byte.toUnsignedInt(in.get()), peek(stack));
                case 'r' -> memo.put(Integer.toUnsignedLong(in.getInt()), peek(stack));
                case 0x94 -> memo.put((long) memo.size(), peek(stack));
                case 'h' -> stack.push(memoGet(memo, Byte.toUnsignedInt(in.get())));
                case 'j' -> stack.push(memoGet(memo, Integer.toUnsignedLong(in.getInt())));
                case '0' -> pop(stack);
                case '2' -> stack.push(peek(stack));
                case '1' -> popToMark(stack);
                default -> {
                    return null; // an opcode tensor pickles do not use: not understood, no verdict
                }
            }
        }
    }

    private static Optional<Storage> storage(Object pid) {
        if (pid instanceof List<?> t && t.size() == 5 && "storage".equals(t.get(0)) && t.get(1) instanceof Global g
                && t.get(2) instanceof String key && t.get(4) instanceof Long numel) {
            return Optional.of(new Storage(key, g.name(), numel));
        }
        return Optional.empty();
    }

    private static Object memoGet(Map<Long, Object> memo, long index) {
        Object v = memo.get(index);
        if (v == null) {
            throw new IllegalStateException("memo " + index + " unset");
        }
        return v;
    }

    private static Object pop(Deque<Object> stack) {
        Object v = stack.pop();
        if (v == MARK) {
            throw new IllegalStateException("unexpected mark");
        }
        return v;
    }

    private static Object peek(Deque<Object> stack) {
        Object v = stack.peek();
        if (v == null) {
            throw new IllegalStateException("empty stack");
        }
        return v;
    }

    private static List<Object> popToMark(Deque<Object> stack) {
        List<Object> items = new ArrayList<>();
        for (Object v = stack.pop(); v != MARK; v = stack.pop()) {
            items.add(0, v);
        }
        return List.copyOf(items);
    }

    private static byte[] bytes(ByteBuffer in, int n) {
        if (n < 0 || n > in.remaining()) {
            throw new IllegalStateException("truncated");
        }
        byte[] b = new byte[n];
        in.get(b);
        return b;
    }

    private static String line(ByteBuffer in) {
        StringBuilder s = new StringBuilder();
        for (byte b = in.get(); b != '\n'; b = in.get()) {
            s.append((char) (b & 0xff));
        }
        return s.toString();
    }

    private static Object littleEndianInteger(byte[] le) {
        if (le.length == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : OPAQUE;
    }
}
