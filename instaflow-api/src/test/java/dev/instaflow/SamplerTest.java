package dev.instaflow;

import org.junit.jupiter.api.Test;

import static dev.instaflow.GenerationRequestTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    @Test
    void parsesEverySamplerForm() {
        assertEquals(Sampler.euler(), Sampler.parse("euler"));
        assertEquals(Sampler.heun(), Sampler.parse(" Heun "));
        Sampler s = Sampler.parse("flowturbo:H1P5R3");
        assertEquals(Sampler.flowTurbo(1, 5, 3), s);
        assertEquals(9, s.fixedSteps().getAsInt());
        assertTrue(s.needsRefiner());
        assertEquals("flowturbo:H1P5R3", s.id());
        assertEquals(Sampler.flowTurbo(2, 4, 0), Sampler.parse("flowturbo:h2p4"));
        assertEquals(Sampler.flowTurbo(3, 0, 0), Sampler.parse("flowturbo:H3"));
        assertEquals(Sampler.flowTurbo(1, 0, 2), Sampler.parse("flowturbo:H1R2"));
        assertFalse(Sampler.euler().fixedSteps().isPresent());
    }

    @Test
    void rejectsInvalidSchedulesClearly() {
        assertMessage(() -> Sampler.parse("ddim"), "is not one of euler, heun, flowturbo");
        assertMessage(() -> Sampler.parse("flowturbo:P5R3"), "is not one of");
        assertMessage(() -> Sampler.parse("flowturbo:R3H1"), "is not one of");
        assertMessage(() -> Sampler.parse("flowturbo:H0P0R0"), "has no steps");
        assertMessage(() -> Sampler.parse("flowturbo:H0P2R1"), "without a Heun step");
        assertMessage(() -> Sampler.flowTurbo(0, 3, 0), "no velocity to carry");
        assertMessage(() -> Sampler.flowTurbo(1, -1, 0), ">= 0");
        assertMessage(() -> Sampler.parse("flowturbo:H99999999999P1"), "is not one of");
    }
}
