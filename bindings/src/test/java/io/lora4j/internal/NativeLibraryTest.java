package io.lora4j.internal;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibraryTest {

    @Test
    void propertyMayNameTheLibraryOrItsDirectory(@TempDir Path dir) throws IOException {
        Path lib = Files.createFile(dir.resolve(NativeLibrary.LIBRARY_FILE));
        assertEquals(lib, NativeLibrary.fromProperty(dir.toString()));
        assertEquals(lib, NativeLibrary.fromProperty(lib.toString()));
    }

    @Test
    void missingLibraryNamesWhatWasTried(@TempDir Path dir) {
        Path missing = dir.resolve("nowhere/liblora4j.so");
        var e = assertThrows(NativeLibraryError.class, () -> NativeLibrary.fromProperty(missing.toString()));
        assertTrue(e.getMessage().contains(NativeLibrary.PATH_PROPERTY), e.getMessage());
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());

        var empty = assertThrows(NativeLibraryError.class, () -> NativeLibrary.fromProperty(dir.toString()));
        assertTrue(empty.getMessage().contains("has no " + NativeLibrary.LIBRARY_FILE), empty.getMessage());
    }

    @Test
    void bundledLibraryIsExtractedFromTheJarResources() {
        // Surefire runs without lora4j.library.path, so the engine comes from target/classes/native/.
        assertNull(System.getProperty(NativeLibrary.PATH_PROPERTY));
        Path path = NativeLibrary.path();
        assertEquals(NativeLibrary.LIBRARY_FILE, path.getFileName().toString());
        assertTrue(Files.isRegularFile(path), path.toString());
        assertTrue(path.getParent().getFileName().toString().startsWith("lora4j-"), path.toString());
        assertTrue(NativeLibrary.lookup().find("lora4j_version").isPresent());
    }

    @Test
    void cudaBackendInTheJarIsExtractedBesideTheEngineOnRequest() {
        assertNull(System.getProperty(NativeLibrary.PATH_PROPERTY));
        Path beside = NativeLibrary.path().resolveSibling(NativeLibrary.CUDA_LIBRARY_FILE);
        boolean bundled = NativeLibrary.class.getResource(
                NativeLibrary.resourcePath().replace(NativeLibrary.LIBRARY_FILE, NativeLibrary.CUDA_LIBRARY_FILE)) != null;
        NativeLibrary.extractCudaBackend();
        NativeLibrary.extractCudaBackend(); // once is enough; a second call changes nothing
        // Built with nvcc: the backend is in the jar and now beside the engine; without nvcc, nothing is.
        assertEquals(bundled, Files.isRegularFile(beside), beside.toString());
    }
}
