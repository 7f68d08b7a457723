package io.lora4j.internal;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The generator stops, naming the declaration, on C it cannot bind faithfully, instead of
 * emitting bindings that would corrupt memory. Needs castxml (as scripts/generate-bindings does);
 * skipped, visibly, where it is not installed: the Maven build itself never needs castxml.
 */
class GeneratorRefusesTest {

    @TempDir
    static Path work;

    static Method generate;

    @BeforeAll
    static void compileGenerator() throws Exception {
        assumeTrue(castxmlInstalled(), "castxml is not installed (apt-get install castxml)");
        Path source = Path.of(System.getProperty("lora4j.generator", ""));
        assertTrue(Files.isRegularFile(source), "surefire passes lora4j.generator: " + source);
        Path classes = Files.createDirectories(work.resolve("classes"));
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), source.toString());
        assertEquals(0, rc, "compiling " + source);
        var loader = new URLClassLoader(new java.net.URL[] {classes.toUri().toURL()});
        generate = loader.loadClass("GenerateBindings")
                .getMethod("generate", Path.class, Path.class, String.class, String.class);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            union u { int a; float b; };                          | bad.h:1: unions are not supported
            struct s { int a : 3; };                              | bitfields are not supported
            int log_it(const char *fmt, ...);                     | bad.h:1: variadic functions are not supported
            extern int counter;                                   | global variables are not supported
            struct s { int n; char data[]; };                     | flexible array members are not supported
            long double half(long double x);                      | C type long double has no Java layout
            struct s { struct { int a; } inner; };                | anonymous nested structs/unions are not supported
            struct s { int a; }; int s(void);                     | function s at bad.h:1 has the name of generated class s
            typedef void (*cb)(int, ...);                         | variadic function pointers are not supported
            """)
    void refusesWithTheDeclarationNamed(String declarations, String message) throws Exception {
        String error = generateError(declarations);
        assertTrue(error.contains(message), "expected '" + message + "' in: " + error);
    }

    /** Awkward but legal C: the output must compile. */
    @Test
    void generatedCodeForAwkwardDeclarationsCompiles() throws Exception {
        Map<?, ?> files = run("""
                #include <stdint.h>
                #include <stdbool.h>
                typedef struct h h;
                typedef struct p_s { int32_t x; const char *const *names; bool on; } p_t;
                typedef p_t p_alias;
                typedef int32_t (*cb)(p_t value, void *user_data);
                typedef cb cb_alias;
                struct q { p_t inner; p_t many[2][2]; cb fn; void (*raw)(int); int32_t new; };
                int32_t h_open(const char *path, h **out);
                p_t p_default(int32_t allocator);
                void native(void);
                void each(int (*)(const void *), void *user_data);
                enum { public = 1, private = -2 };
                """);
        assertTrue(files.keySet().containsAll(java.util.Set.of("bad_h.java", "p_s.java", "p_t.java", "p_alias.java",
                "cb.java", "cb_alias.java", "q.java")), files.keySet().toString());
        String header = (String) files.get("bad_h.java");
        assertTrue(header.contains("public static int h_open(MemorySegment path, MemorySegment out)"), header);
        assertTrue(header.contains("public static MemorySegment p_default(SegmentAllocator allocator, int allocator_)"), header);
        assertTrue(header.contains("public static void native_()"), header);
        assertTrue(header.contains("public static class each$x0"), header);

        Path src = Files.createDirectories(Files.createTempDirectory(work, "src").resolve("t"));
        for (var e : files.entrySet()) Files.writeString(src.resolve((String) e.getKey()), (String) e.getValue());
        var err = new java.io.ByteArrayOutputStream();
        var args = new java.util.ArrayList<>(java.util.List.of("-d", src.getParent().resolve("out").toString()));
        try (var java = Files.list(src)) {
            java.forEach(f -> args.add(f.toString()));
        }
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, err, args.toArray(String[]::new));
        assertEquals(0, rc, err.toString());
    }

    private static boolean castxmlInstalled() {
        try {
            Process p = new ProcessBuilder("castxml", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException | InterruptedException e) {
            return false;
        }
    }

    private static String generateError(String declarations) throws Exception {
        try {
            run(declarations);
        } catch (InvocationTargetException e) {
            assertEquals("GenerationError", e.getCause().getClass().getSimpleName(), e.getCause().toString());
            return e.getCause().getMessage();
        }
        return fail("generated bindings for: " + declarations);
    }

    private static Map<?, ?> run(String declarations) throws Exception {
        Path dir = Files.createTempDirectory(work, "case");
        Path header = Files.writeString(dir.resolve("bad.h"), declarations);
        Path xml = dir.resolve("bad.xml");
        Process castxml = new ProcessBuilder("castxml", "--castxml-output=1", "--castxml-cc-gnu-c", "gcc",
                "-o", xml.toString(), header.toString()).redirectErrorStream(true).start();
        String out = new String(castxml.getInputStream().readAllBytes());
        assertTrue(castxml.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, castxml.exitValue(), out);
        return (Map<?, ?>) generate.invoke(null, xml, header, "t", "null");
    }
}
