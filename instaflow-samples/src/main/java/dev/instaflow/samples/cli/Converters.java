package dev.instaflow.samples.cli;

import dev.instaflow.Device;
import dev.instaflow.Sampler;
import dev.instaflow.tooling.assembly.BundlePreset;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.function.Function;

/**
 * Flag values parsed by the SDK's own parsers, so the CLI accepts exactly what the API accepts and reports the
 * API's message ("device 'tpu' is not one of auto, cpu, cuda, cuda:N") as a usage error.
 */
final class Converters {
    private Converters() {
    }

    private static <T> T convert(String text, Function<String, T> parser) {
        try {
            return parser.apply(text);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    /** A seed as torch reads it: a signed or an unsigned 64-bit integer (-1 and 18446744073709551615 are equal). */
    static final class SeedConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String text) {
            return Converters.convert(text, t -> {
                try {
                    return t.startsWith("-") ? Long.parseLong(t) : Long.parseUnsignedLong(t);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("seed '" + t + "' is not a 64-bit integer");
                }
            });
        }
    }

    static final class DeviceConverter implements ITypeConverter<Device> {
        @Override
        public Device convert(String text) {
            // "auto" is the CLI's word for "let LoadOptions choose" (null: no LoadOptions.device(...)).
            if (text.trim().equalsIgnoreCase("auto")) {
                return null;
            }
            return Converters.convert(text, t -> {
                try {
                    return Device.parse(t);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("device '" + t + "' is not one of auto, cpu, cuda, cuda:N", e);
                }
            });
        }
    }

    static final class SamplerConverter implements ITypeConverter<Sampler> {
        @Override
        public Sampler convert(String text) {
            return Converters.convert(text, Sampler::parse);
        }
    }

    static final class PresetConverter implements ITypeConverter<BundlePreset> {
        @Override
        public BundlePreset convert(String text) {
            return Converters.convert(text, BundlePreset::parse);
        }
    }
}
