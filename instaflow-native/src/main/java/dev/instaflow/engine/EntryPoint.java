package dev.instaflow.engine;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an engine class that the project's own tools may use: the CLI (instaflow-samples), the recipe
 * (instaflow-train), instaflow-tooling, the server and the Spark module. Every other engine class is internal, even
 * when Java's visibility makes it public (packages must see each other); {@code ArchitectureTest} fails when code
 * outside the engine uses one. Applications use the public API ({@code dev.instaflow}) only. An entry point's
 * nested types come with it.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface EntryPoint {
    /** Who uses it and for what, as a reminder of why it is exposed. */
    String value();
}
