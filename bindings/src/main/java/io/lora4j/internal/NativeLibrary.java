package io.lora4j.internal;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Optional;

/**
 * Finds and loads the lora4j engine ({@code liblora4j.so}) once per JVM and gives the generated
 * bindings ({@link lora4j_h}) its symbols.
 *
 * <p>Where the library comes from, in order:
 * <ol>
 *   <li>the system property {@value #PATH_PROPERTY}: the {@code .so} file itself, or a directory
 *       holding {@value #LIBRARY_FILE} (a local {@code cmake --build} output, a packaged install);</li>
 *   <li>else the copy built into this jar at {@code /native/<platform>/liblora4j.so}, extracted to a
 *       fresh private temporary directory that is deleted when the JVM exits.</li>
 * </ol>
 *
 * <p>Loading happens on the first call of a bound function, not when {@code lora4j_h} is
 * initialised, so constants and struct layouts work without the library. A failure throws
 * {@link NativeLibraryError} naming every place that was tried; the next call tries again.
 *
 * <p>The CUDA backend ships as a second library, {@value #CUDA_LIBRARY_FILE}, in the same resource
 * directory when the build had nvcc (and sits next to {@code liblora4j.so} in a {@value #PATH_PROPERTY}
 * directory). The engine {@code dlopen}s it from beside itself only when a GPU is asked for, so
 * {@link #extractCudaBackend()} copies it next to the extracted engine just before that; the CPU
 * library never links the CUDA runtime, and the same jar runs on machines without one.
 */
public final class NativeLibrary {

    /** System property naming the library file or the directory holding it. */
    public static final String PATH_PROPERTY = "lora4j.library.path";

    /** The engine's file name. */
    public static final String LIBRARY_FILE = "liblora4j.so";

    /** The CUDA backend's file name; the engine looks for it beside itself. */
    public static final String CUDA_LIBRARY_FILE = "liblora4j-cuda.so";

    private static volatile Loaded loaded;

    private NativeLibrary() {}

    /** Where the engine was loaded from and the lookup for its symbols. */
    private record Loaded(Path path, String origin, SymbolLookup lookup, boolean fromJar) {}

    private static boolean cudaExtracted;

    /** The engine's symbols, loading it on first use. */
    public static SymbolLookup lookup() {
        return load().lookup();
    }

    /** The file the engine was loaded from (the extracted copy when it came from the jar). */
    public static Path path() {
        return load().path();
    }

    /**
     * Loads the engine, and when it came from this jar and the jar holds the CUDA backend, copies
     * the backend beside the extracted engine, once, and only when a GPU is asked for.
     * A jar without the backend leaves the engine to report that it is not there.
     */
    public static void extractCudaBackend() {
        Loaded l = load();
        synchronized (NativeLibrary.class) {
            if (!l.fromJar() || cudaExtracted) return;
            String resource = resourcePath().replace(LIBRARY_FILE, CUDA_LIBRARY_FILE);
            try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
                if (in != null) {
                    Path file = l.path().resolveSibling(CUDA_LIBRARY_FILE);
                    // Registered after the directory, so deleted before it (deleteOnExit runs in reverse order).
                    file.toFile().deleteOnExit();
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } catch (IOException e) {
                throw new NativeLibraryError("cannot extract the CUDA backend (jar resource " + resource + ") beside "
                        + l.path() + ": " + e, e);
            }
            cudaExtracted = true;
        }
    }

    private static Loaded load() {
        Loaded l = loaded;
        if (l != null) return l;
        synchronized (NativeLibrary.class) {
            if (loaded == null) loaded = loadOnce();
            return loaded;
        }
    }

    private static Loaded loadOnce() {
        String property = System.getProperty(PATH_PROPERTY);
        Path file;
        String origin;
        if (property != null && !property.isBlank()) {
            file = fromProperty(property);
            origin = "-D" + PATH_PROPERTY + "=" + property;
        } else {
            String resource = resourcePath();
            file = extract(resource);
            origin = "jar resource " + resource + " extracted to " + file;
        }
        try {
            System.load(file.toString());
        } catch (UnsatisfiedLinkError e) {
            throw new NativeLibraryError("cannot load the lora4j engine from " + origin + ": " + e.getMessage()
                    + hint(), e);
        }
        String description = LIBRARY_FILE + " (" + origin + ")";
        SymbolLookup symbols = SymbolLookup.loaderLookup();
        // A named lookup, so an unresolved-symbol error says which library was searched.
        SymbolLookup named = new SymbolLookup() {
            @Override
            public Optional<MemorySegment> find(String name) {
                return symbols.find(name);
            }

            @Override
            public String toString() {
                return description;
            }
        };
        return new Loaded(file, origin, named, property == null || property.isBlank());
    }

    /** The library file a {@value #PATH_PROPERTY} value names: the file, or LIBRARY_FILE in that directory. */
    static Path fromProperty(String value) {
        Path p = Path.of(value).toAbsolutePath().normalize();
        Path file = Files.isDirectory(p) ? p.resolve(LIBRARY_FILE) : p;
        if (!Files.isRegularFile(file)) {
            String what = Files.isDirectory(p) ? "directory " + p + " has no " + LIBRARY_FILE : p + " does not exist";
            throw new NativeLibraryError("cannot load the lora4j engine: -D" + PATH_PROPERTY + "=" + value + ", but "
                    + what + hint(), null);
        }
        return file;
    }

    /** The jar resource of the engine for this platform. */
    static String resourcePath() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new NativeLibraryError("cannot load the lora4j engine: this jar bundles it for linux-x86_64 only, not "
                    + os + "/" + arch + "; build it for this platform and set -D" + PATH_PROPERTY, null);
        }
        return "/native/linux-x86_64/" + LIBRARY_FILE;
    }

    private static Path extract(String resource) {
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new NativeLibraryError("cannot load the lora4j engine: no -D" + PATH_PROPERTY
                        + " and no jar resource " + resource + " on the class path of " + NativeLibrary.class.getName()
                        + " (was the bindings jar built without its native library?)" + hint(), null);
            }
            Path dir = Files.createTempDirectory("lora4j-");
            Path file = dir.resolve(LIBRARY_FILE);
            // deleteOnExit runs in reverse order of registration: the file first, then its directory.
            dir.toFile().deleteOnExit();
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new NativeLibraryError("cannot load the lora4j engine: extracting jar resource " + resource
                    + " to a temporary directory failed: " + e + hint(), e);
        }
    }

    private static String hint() {
        return ". To use a locally built engine, run with -D" + PATH_PROPERTY
                + "=<liblora4j.so or its directory> (cmake -S native -B build && cmake --build build).";
    }
}
