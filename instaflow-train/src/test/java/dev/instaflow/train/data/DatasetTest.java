package dev.instaflow.train.data;

import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dataset's captions match its images, as the caption reader sees them, and the split is as documented. */
class DatasetTest {
    @Test
    void theReaderReadsEveryDrawnCaptionBack() {
        SplittableRandom random = new SplittableRandom(7);
        int n = 0;
        int wrong = 0;
        StringBuilder failures = new StringBuilder();
        for (int round = 0; round < 40; round++) {
            for (Caption caption : Caption.all()) {
                Scene scene = Scene.random(caption, 32, random);
                CaptionReader.Reading reading = CaptionReader.read(RgbImage.of(scene, 32));
                n++;
                if (!reading.matches(caption)) {
                    wrong++;
                    if (failures.length() < 500) {
                        failures.append(scene).append(" read as ").append(reading).append('\n');
                    }
                }
            }
        }
        assertEquals(3600, n);
        assertEquals(0, wrong, "misread " + wrong + " of " + n + ":\n" + failures);
    }

    @Test
    void theReaderAlsoReadsOtherSizes() {
        SplittableRandom random = new SplittableRandom(8);
        for (int side : new int[] {48, 64}) {
            for (Caption caption : Caption.all()) {
                Scene scene = Scene.random(caption, side, random);
                assertTrue(CaptionReader.read(RgbImage.of(scene, side)).matches(caption), scene + " at " + side);
            }
        }
    }

    @Test
    void theReaderRefusesImagesWithoutAShape() {
        byte[] plain = new byte[32 * 32 * 3];
        java.util.Arrays.fill(plain, (byte) 128);
        CaptionReader.Reading reading = CaptionReader.read(new RgbImage(32, 32, plain));
        assertTrue(reading.foreground().isEmpty());
        assertTrue(reading.caption().isEmpty());
        for (Caption caption : Caption.all()) {
            assertFalse(reading.matches(caption));
        }
    }

    @Test
    void captionsHaveTheDocumentedFormAndParseBack() {
        assertEquals(90, Caption.all().size());
        assertEquals("a red circle on a blue background",
                new Caption(Colour.RED, Shape.CIRCLE, Colour.BLUE).text());
        for (Caption c : Caption.all()) {
            assertEquals(c, Caption.parse(c.text()));
            assertTrue(c.text().matches("a [a-z]+ (circle|square|triangle) on a [a-z]+ background"), c.text());
        }
        assertEquals(Caption.parse("A  Red Circle on a BLUE background "), Caption.parse("a red circle on a blue"
                + " background"));
        assertThrows(IllegalArgumentException.class, () -> Caption.parse("a red circle"));
        assertThrows(IllegalArgumentException.class, () -> Caption.parse("a red circle on a red background"));
        assertThrows(IllegalArgumentException.class, () -> Caption.parse("a purple circle on a red background"));
    }

    @Test
    void heldOutCombinationsAreBalancedAndTheirPartsAreSeenInTraining() {
        List<Caption> heldOut = CaptionSplit.heldOut();
        assertEquals(12, heldOut.size());
        assertEquals(12, new HashSet<>(heldOut).size());
        assertEquals(78, CaptionSplit.training().size());
        Map<Colour, Integer> asForeground = new EnumMap<>(Colour.class);
        Map<Colour, Integer> asBackground = new EnumMap<>(Colour.class);
        Map<Shape, Integer> shapes = new EnumMap<>(Shape.class);
        for (Caption c : heldOut) {
            assertFalse(CaptionSplit.training().contains(c));
            asForeground.merge(c.foreground(), 1, Integer::sum);
            asBackground.merge(c.background(), 1, Integer::sum);
            shapes.merge(c.shape(), 1, Integer::sum);
        }
        for (Colour colour : Colour.values()) {
            assertEquals(2, asForeground.get(colour), colour + " as foreground");
            assertEquals(2, asBackground.get(colour), colour + " as background");
        }
        for (Shape shape : Shape.values()) {
            assertEquals(4, shapes.get(shape), shape.word());
        }
        // Every part of a held-out caption appears in training: its (colour, shape) with another background, its
        // background with another shape or colour.
        Set<String> seenFigures = new HashSet<>();
        Set<Colour> seenBackgrounds = new HashSet<>();
        for (Caption c : CaptionSplit.training()) {
            seenFigures.add(c.foreground() + "/" + c.shape());
            seenBackgrounds.add(c.background());
        }
        for (Caption c : heldOut) {
            assertTrue(seenFigures.contains(c.foreground() + "/" + c.shape()), c.text());
            assertTrue(seenBackgrounds.contains(c.background()), c.text());
        }
    }

    @Test
    void scenesStayInsideTheMarginAndVary() {
        SplittableRandom random = new SplittableRandom(3);
        Caption caption = Caption.parse("a white square on a black background");
        Set<Long> positions = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            Scene s = Scene.random(caption, 32, random);
            assertTrue(s.size() >= 10 && s.size() <= 22, "size " + s.size());
            assertTrue(s.cx() - s.size() / 2 >= 2 - 1e-9 && s.cx() + s.size() / 2 <= 30 + 1e-9, s.toString());
            assertTrue(s.cy() - s.size() / 2 >= 2 - 1e-9 && s.cy() + s.size() / 2 <= 30 + 1e-9, s.toString());
            positions.add(Math.round(s.cx()) * 100 + Math.round(s.cy()));
        }
        assertTrue(positions.size() > 50, "positions vary: " + positions.size());
    }
}
