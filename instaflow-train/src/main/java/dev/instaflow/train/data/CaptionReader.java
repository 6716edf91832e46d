package dev.instaflow.train.data;

import java.util.ArrayDeque;
import java.util.Optional;

/**
 * Reads a caption back from an image, so every generated image can be checked against its prompt without a
 * person. The rules (documented in {@code docs/reflow.md}):
 * <ol>
 *   <li>Every pixel is named by its nearest palette colour ({@link Colour#nearest}).</li>
 *   <li>The <b>background</b> is the most frequent colour in the border ring ({@link Scene#MARGIN} of the side,
 *       2 px at 32 px), which the dataset keeps free of shapes.</li>
 *   <li>The <b>foreground</b> is the most frequent other colour inside the ring; it must cover at least a quarter of
 *       the smallest shape's box ({@link #minimumArea}), else nothing is read.</li>
 *   <li>The <b>shape</b>: the largest 4-connected region of foreground pixels is compared with each shape drawn
 *       drawn centred in the region's bounding box with a side of the box's mean side, or half a pixel more or less
 *       (pixelation); the best intersection-over-union wins if it is at least {@link #MIN_SHAPE_IOU}, else the
 *       shape is unreadable.</li>
 * </ol>
 * On the dataset's own images it reads every caption correctly (a test checks this on thousands of draws).
 */
public final class CaptionReader {
    /** Below this overlap with the best shape template, the region is read as no shape. */
    public static final double MIN_SHAPE_IOU = 0.5;

    private CaptionReader() {
    }

    /**
     * What {@link #read} saw. Fields are empty when they could not be read.
     *
     * @param foreground the shape's colour
     * @param shape      the shape
     * @param background the background colour
     * @param shapeIou   overlap of the region with the chosen shape template (0 when none)
     */
    public record Reading(Optional<Colour> foreground, Optional<Shape> shape, Colour background, double shapeIou) {
        /** Whether shape, foreground and background all agree with {@code caption}. */
        public boolean matches(Caption caption) {
            return foreground.equals(Optional.of(caption.foreground())) && shape.equals(Optional.of(caption.shape()))
                    && background == caption.background();
        }

        /** The caption read, when every part was read. */
        public Optional<Caption> caption() {
            if (foreground.isEmpty() || shape.isEmpty() || foreground.get() == background) {
                return Optional.empty();
            }
            return Optional.of(new Caption(foreground.get(), shape.get(), background));
        }
    }

    /** The smallest foreground area (pixels) read as a shape in an image of {@code side} pixels. */
    public static int minimumArea(int side) {
        double smallest = Scene.MIN_SIZE * side;
        return (int) Math.ceil(smallest * smallest / 4);
    }

    public static Reading read(RgbImage image) {
        int w = image.width();
        int h = image.height();
        Colour[] names = new Colour[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                names[y * w + x] = Colour.nearest(image.red(x, y), image.green(x, y), image.blue(x, y));
            }
        }
        int ring = Math.max(1, (int) Math.round(Scene.MARGIN * Math.min(w, h)));
        int[] ringCounts = new int[Colour.values().length];
        int[] innerCounts = new int[Colour.values().length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                boolean inRing = x < ring || y < ring || x >= w - ring || y >= h - ring;
                (inRing ? ringCounts : innerCounts)[names[y * w + x].ordinal()]++;
            }
        }
        Colour background = Colour.values()[argmax(ringCounts, -1)];
        int fgIndex = argmax(innerCounts, background.ordinal());
        if (fgIndex < 0 || innerCounts[fgIndex] < minimumArea(Math.min(w, h))) {
            return new Reading(Optional.empty(), Optional.empty(), background, 0);
        }
        Colour foreground = Colour.values()[fgIndex];
        boolean[] region = largestRegion(names, foreground, w, h);
        int x0 = w;
        int y0 = h;
        int x1 = -1;
        int y1 = -1;
        int area = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (region[y * w + x]) {
                    x0 = Math.min(x0, x);
                    x1 = Math.max(x1, x);
                    y0 = Math.min(y0, y);
                    y1 = Math.max(y1, y);
                    area++;
                }
            }
        }
        double cx = (x0 + x1 + 1) / 2.0;
        double cy = (y0 + y1 + 1) / 2.0;
        double side = (x1 - x0 + 1 + y1 - y0 + 1) / 2.0;
        Shape best = null;
        double bestIou = 0;
        for (Shape shape : Shape.values()) {
            // Pixelation makes a drawn box a pixel wider or taller than its side: try the side +- half a pixel.
            for (double size = side - 0.5; size <= side + 0.5; size += 0.5) {
                double iou = iou(region, area, shape, cx, cy, size, w, h);
                if (iou > bestIou) {
                    bestIou = iou;
                    best = shape;
                }
            }
        }
        Optional<Shape> shape = bestIou >= MIN_SHAPE_IOU ? Optional.of(best) : Optional.empty();
        return new Reading(Optional.of(foreground), shape, background, bestIou);
    }

    private static double iou(boolean[] region, int area, Shape shape, double cx, double cy, double size, int w,
                               int h) {
        int intersection = 0;
        int templateArea = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (shape.covers(cx, cy, size, x, y)) {
                    templateArea++;
                    if (region[y * w + x]) {
                        intersection++;
                    }
                }
            }
        }
        return (double) intersection / (area + templateArea - intersection);
    }

    private static int argmax(int[] counts, int excluded) {
        int best = -1;
        for (int i = 0; i < counts.length; i++) {
            if (i != excluded && counts[i] > 0 && (best < 0 || counts[i] > counts[best])) {
                best = i;
            }
        }
        return best;
    }

    /** The largest 4-connected set of pixels named {@code colour}. */
    private static boolean[] largestRegion(Colour[] names, Colour colour, int w, int h) {
        int[] label = new int[w * h];
        int bestLabel = 0;
        int bestSize = 0;
        int next = 1;
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int start = 0; start < names.length; start++) {
            if (names[start] != colour || label[start] != 0) {
                continue;
            }
            int id = next++;
            int size = 0;
            label[start] = id;
            queue.add(start);
            while (!queue.isEmpty()) {
                int p = queue.poll();
                size++;
                int x = p % w;
                int y = p / w;
                int[] neighbours = {x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1,
                    y < h - 1 ? p + w : -1};
                for (int q : neighbours) {
                    if (q >= 0 && names[q] == colour && label[q] == 0) {
                        label[q] = id;
                        queue.add(q);
                    }
                }
            }
            if (size > bestSize) {
                bestSize = size;
                bestLabel = id;
            }
        }
        boolean[] region = new boolean[w * h];
        for (int i = 0; i < region.length; i++) {
            region[i] = label[i] == bestLabel && bestLabel != 0;
        }
        return region;
    }
}
